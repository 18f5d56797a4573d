#!/usr/bin/env python3
"""Writes the optical-flow test fixtures: synthetic pairs with ground truth and OpenCV DIS's EPE.

Command (from the repository root, after tools/setup-flow-reference.sh):
    tools/.venv-flow/bin/python tools/make-flow-fixtures.py
Output: Tests/KinoFlowTests/Fixtures/<scene>.{i0,i1}.u8, <scene>.flow.f32 (h*w*2 little-endian,
u/v interleaved), <scene>.valid.u8 (0/1), manifest.json (sizes, OpenCV version, EPE per preset).
"""
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flow_scenes as fs  # noqa: E402

W, H = 256, 192
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "KinoFlowTests", "Fixtures")


def main():
    os.makedirs(OUT, exist_ok=True)
    scenes = fs.make_scenes(W, H, photos=("astronaut",))
    manifest = {"width": W, "height": H, "opencv": cv2.__version__,
                "command": "tools/.venv-flow/bin/python tools/make-flow-fixtures.py",
                "convention": "I0(x) = I1(x + u(x)); EPE = mean over valid pixels",
                "scenes": {}}
    for name, (i0, i1, gt, valid) in scenes.items():
        i0.tofile(os.path.join(OUT, f"{name}.i0.u8"))
        i1.tofile(os.path.join(OUT, f"{name}.i1.u8"))
        gt.astype("<f4").tofile(os.path.join(OUT, f"{name}.flow.f32"))
        valid.astype(np.uint8).tofile(os.path.join(OUT, f"{name}.valid.u8"))
        row = {"zero": fs.epe(np.zeros_like(gt), gt, valid)}
        for preset in fs.PRESETS:
            flow = fs.opencv_dis(preset).calc(i0, i1, None)
            row[preset] = fs.epe(flow, gt, valid)
        manifest["scenes"][name] = row
        print(name, {k: round(v, 4) for k, v in row.items()})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
