#!/usr/bin/env python3
"""Kino DIS optical flow against OpenCV DIS, same parameters, interleaved in one run.

Command (from the repository root, after tools/setup-flow-reference.sh):
    tools/.venv-flow/bin/python Benchmarks/flow_bench.py [--rounds 12] [--per-call 5] [--no-build]

Kino runs as a release `flow-bench` server (Benchmarks/Sources/flow-bench) built for AVX2
(`-target-cpu haswell`); OpenCV runs in this process (opencv-python-headless, pthreads). Each round
times a batch of calls of Kino, then the same of OpenCV, so load drift hits both; the table
reports medians over all calls. Every 1-thread row runs before any 2-thread OpenCV call, because
OpenCV's worker pool keeps spinning after a parallel call and would slow later 1-thread calls.
Timing pair: the `smooth` scene; EPE: mean over the six synthetic scenes of tools/flow_scenes.py.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import flow_scenes as fs  # noqa: E402

SIZES = [(1280, 720), (640, 360)]
START_LOAD = 0.0
# name, preset, knobs (Kino key -> OpenCV setter); retuned rows use identical values on both sides.
CONFIGS = [
    ("ultrafast", "ultrafast", {}),
    ("fast", "fast", {}),
    ("medium", "medium", {}),
    ("fast, stride 5, VR 2 (retuned)", "fast", {"stride": 5, "gd": 12, "vr": 2}),
    ("medium, GD 12, VR 2 (retuned)", "medium", {"gd": 12, "vr": 2}),
]
SETTERS = {"stride": "PatchStride", "gd": "GradientDescentIterations", "vr": "VariationalRefinementIterations"}


class Kino:
    def __init__(self, exe):
        # KinoDSP links KinoTensor's OpenBLAS, whose idle pool thread spin-yields; Kino runs BLAS on
        # one thread anyway (docs/ARCHITECTURE.md), so start it that way and keep both cores for flow.
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        self.p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        reply = json.loads(self.p.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"flow-bench: {line}: {reply['error']}")
        return reply


def knob_args(knobs):
    return " ".join(f"{k}={v}" for k, v in knobs.items())


def opencv(preset, threads, knobs):
    return fs.opencv_dis(preset, threads, **{SETTERS[k]: v for k, v in knobs.items()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--per-call", type=int, default=5, help="calls per batch (MEDIUM at 720p uses 2)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--quick", action="store_true", help="presets only, fewer rounds")
    ap.add_argument("--results", help="write the table under '## Optical flow (DIS)' in this markdown file")
    args = ap.parse_args()
    global START_LOAD
    START_LOAD = os.getloadavg()[0]
    configs = CONFIGS[:3] if args.quick else CONFIGS
    if args.quick:
        args.rounds = 5
    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--package-path", os.path.join(ROOT, "Benchmarks"),
                        "--product", "flow-bench", "-Xswiftc", "-target-cpu", "-Xswiftc", "haswell"], check=True)
    exe = os.path.join(ROOT, "Benchmarks", ".build", "release", "flow-bench")
    kino = Kino(exe)
    tmp = tempfile.mkdtemp(prefix="flow-bench-")
    import cv2
    cv2.setNumThreads(1)

    scenes, epe = {}, {}
    for (w, h) in SIZES:
        scenes[w] = fs.make_scenes(w, h)
        for name, (a, b, gt, valid) in scenes[w].items():
            a.tofile(f"{tmp}/{w}-{name}.i0")
            b.tofile(f"{tmp}/{w}-{name}.i1")
            kino.ask(f"load {w}-{name} {w} {h} {tmp}/{w}-{name}.i0 {tmp}/{w}-{name}.i1")
        for label, preset, knobs in configs:
            ek, eo = [], []
            for name, (a, b, gt, valid) in scenes[w].items():
                out = f"{tmp}/flow.f32"
                kino.ask(f"flow {w}-{name} {preset} 1 {out} {knob_args(knobs)}")
                ek.append(fs.epe(np.fromfile(out, np.float32).reshape(h, w, 2), gt, valid))
                eo.append(fs.epe(opencv(preset, 1, knobs).calc(a, b, None), gt, valid))
            epe[(w, label)] = (float(np.mean(ek)), float(np.mean(eo)))
            print(f"EPE {w}x{h} {label}: kino {epe[(w, label)][0]:.4f} opencv {epe[(w, label)][1]:.4f}", flush=True)

    rows = []
    for threads in (1, 2):
        for (w, h) in SIZES:
            a, b = scenes[w]["smooth"][:2]
            for label, preset, knobs in configs:
                n = 2 if (w == 1280 and "medium" in label and "retuned" not in label) else args.per_call
                dis = opencv(preset, threads, knobs)
                dis.calc(a, b, None)
                kino.ask(f"time {w}-smooth {preset} {threads} 1 {knob_args(knobs)}")
                tk, to = [], []
                for _ in range(args.rounds):
                    tk += kino.ask(f"time {w}-smooth {preset} {threads} {n} {knob_args(knobs)}")["ms"]
                    for _ in range(n):
                        t0 = time.perf_counter()
                        dis.calc(a, b, None)
                        to.append((time.perf_counter() - t0) * 1e3)
                video = statistics.median(kino.ask(f"video {w}-smooth {preset} {threads} {4 * n} {knob_args(knobs)}")["ms"])
                mk, mo = statistics.median(tk), statistics.median(to)
                row = dict(size=f"{w}x{h}", config=label, threads=threads, kino=mk, opencv=mo, video=video,
                           epe_kino=epe[(w, label)][0], epe_opencv=epe[(w, label)][1])
                rows.append(row)
                print(f"{row['size']} {label} T{threads}: kino {mk:.2f} ms (video {video:.2f}) opencv {mo:.2f} ms "
                      f"ratio {mk / mo:.2f}", flush=True)

    lines = [f"OpenCV {cv2.__version__} (opencv-python-headless, pthreads) vs Kino release (AVX2); "
             f"{args.rounds} rounds, medians of all calls; load average at start {START_LOAD:.1f}.", "",
             "| size | config | threads | Kino ms | Kino video ms | OpenCV ms | Kino/OpenCV | Kino pairs/s | EPE Kino | EPE OpenCV |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['config']} | {r['threads']} | {r['kino']:.2f} | {r['video']:.2f} | "
                     f"{r['opencv']:.2f} | {r['kino'] / r['opencv']:.2f} | {1000 / r['kino']:.0f} | "
                     f"{r['epe_kino']:.3f} | {r['epe_opencv']:.3f} |")
    lines.append("")
    for (w, h) in SIZES:
        for label, _, _ in configs:
            one = [r for r in rows if r["size"] == f"{w}x{h}" and r["config"] == label and r["threads"] == 1][0]
            two = [r for r in rows if r["size"] == f"{w}x{h}" and r["config"] == label and r["threads"] == 2][0]
            lines.append(f"- {w}x{h} {label}: two threads vs one: Kino {one['kino'] / two['kino']:.2f}×, "
                         f"OpenCV {one['opencv'] / two['opencv']:.2f}×")
    # Kino's own two-thread speed-up, 1- and 2-thread calls alternating in one loop so both see
    # the same machine load (the OpenCV rows above are separate phases, see the docstring).
    lines += ["", "Kino two-thread speed-up, 1- and 2-thread calls alternating (same load for both); \"paired\" is the",
              "median of the per-round ratios; video = `FlowSession.push` (one new frame per call):", "",
              "| size | preset | 1 thread ms | 2 threads ms | speed-up (medians) | speed-up (10th percentiles) | speed-up (paired) "
              "| video 1 thread ms | video 2 threads ms | video speed-up (medians) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for (w, h) in SIZES:
        for preset in ("ultrafast", "fast", "medium"):
            n = 8 * args.rounds if preset != "medium" else 2 * args.rounds
            r = kino.ask(f"scale {w}-smooth {preset} {n}")
            rv = kino.ask(f"scale-video {w}-smooth {preset} {n}")
            paired = statistics.median(a / b for a, b in zip(r["one"], r["two"]))
            one, two = sorted(r["one"]), sorted(r["two"])
            v1, v2 = statistics.median(rv["one"]), statistics.median(rv["two"])
            p10 = lambda v: v[len(v) // 10]
            lines.append(f"| {w}x{h} | {preset} | {statistics.median(one):.2f} | {statistics.median(two):.2f} | "
                         f"{statistics.median(one) / statistics.median(two):.2f}× | {p10(one) / p10(two):.2f}× | {paired:.2f}× | "
                         f"{v1:.2f} | {v2:.2f} | {v1 / v2:.2f}× |")
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    print()
    print(table)
    if args.results:
        write_section(args.results, table)


def write_section(path, table):
    """Replaces (or appends) the '## Optical flow (DIS)' section, keeping the rest of the file."""
    head = "## Optical flow (DIS)"
    command = "tools/.venv-flow/bin/python Benchmarks/flow_bench.py " + " ".join(sys.argv[1:])
    body = (f"{head}\n\nCommand: `{command}`"
            f" (after `tools/setup-flow-reference.sh`). Timing pair: the `smooth` scene; \"video\" = `FlowSession.push`"
            f" with one new frame per call (pyramid reuse). EPE = mean over the six synthetic scenes, same parameters"
            f" on both sides.\n\n{table}\n")
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n\n"
    if head in text:
        start = text.index(head)
        nxt = text.find("\n## ", start + len(head))
        text = text[:start] + body + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)

if __name__ == "__main__":
    main()
