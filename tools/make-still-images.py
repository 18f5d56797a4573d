#!/usr/bin/env python3
"""Still pictures for pretraining a spatial encoder on an image task before it learns camera motion
(Benchmarks/frozen-spatial: ViViT's spatial transformer is an image model first).

The task is rotation prediction (Gidaris et al. 2018, "Unsupervised representation learning by predicting image
rotations"): every PNG is a view of a picture turned by 0, 90, 180 or 270 degrees, and the label says where the
picture's top now points: `up`, `right`, `down` or `left`. A classifier of this needs the layout of a picture (sky
above, ground below, upright letters and faces), not just its colours, which is what a camera-motion model must track.

    tools/.venv-data/bin/python tools/make-still-images.py --out ~/.cache/kino-data/stills --seed 0

Writes <out>/{train,val}/<label>/<label>_<i>.png (128 x 128 RGB; train 600 and val 100 per label by default,
--per-label / --val-per-label) and <out>/manifest.csv. Sources: only the train+val pictures of
tools/make-default-datasets.py (its PHOTOS and VIDEO_FRAMES "trainval" groups, rendered by its camera code), so the
motion test split's pictures stay unseen; left out are the pictures whose orientation cannot be told (coins, grass,
gravel, immunohistochemistry and retina are top-down or microscope views). Per image: a random window (scale 0.7-1.8
source px per output px, roll within +-8 degrees, a random left-right mirror), the motion clips' photometric jitter
(contrast, brightness, gamma, white balance, sensor noise), then the rotation. Reproducible: each image has its own
numpy Generator seeded with SeedSequence([seed, crc32("still/<split>/<label>/<i>")]); same seed and versions
(numpy 1.26.4, Pillow 10.4.0, scikit-image 0.24.0, scikit-learn 1.5.2) give the same bytes.
"""
import argparse
import csv
import importlib.util
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("motion_data", os.path.join(HERE, "make-default-datasets.py"))
data = importlib.util.module_from_spec(spec)
spec.loader.exec_module(data)

LABELS = ["up", "right", "down", "left"]          # where the picture's top points; np.rot90 k = 0, 3, 2, 1
TURNS = {"up": 0, "right": 3, "down": 2, "left": 1}
AMBIGUOUS = {"skimage:coins", "skimage:grass", "skimage:gravel", "skimage:immunohistochemistry", "skimage:retina"}


def sources():
    photos = [n for n in data.PHOTOS["trainval"] if n not in AMBIGUOUS]
    out = [(n, data.pyramid(data.normalise_size(data.load_photo(n)))) for n in photos]
    out += [(f"samples/{n}@{s}s", data.pyramid(data.normalise_size(data.video_frame(n, s))))
            for n, s in data.VIDEO_FRAMES["trainval"]]
    return out


def still(rng, pictures, label):
    name, pyr = pictures[int(rng.integers(0, len(pictures)))]
    h, w = pyr[0].shape[:2]
    s = float(np.exp(rng.uniform(math.log(0.7), math.log(1.8))))
    th = math.radians(float(rng.uniform(-8, 8)))
    extent = data.SIZE / 2 * (abs(math.cos(th)) + abs(math.sin(th)))   # half the rolled window, in output px
    s = min(s, 0.98 * (min(w, h) / 2 - 2) / extent)
    half = s * extent + 2
    cx, cy = rng.uniform(half, w - half), rng.uniform(half, h - half)
    flip = bool(rng.random() < 0.5)
    x = data.render(pyr, cx, cy, s, th, flip)
    contrast, bright = float(rng.uniform(0.75, 1.25)), float(rng.uniform(-0.08, 0.08))
    gamma, wb = float(rng.uniform(0.8, 1.25)), rng.uniform(0.92, 1.08, 3)
    sigma = float(rng.uniform(0.5, 6.0)) / 255 if rng.random() < 0.8 else 0.0
    x = np.power(np.clip(x, 0, 1), gamma)
    x = ((x - 0.5) * contrast + 0.5 + bright) * wb
    if sigma > 0:
        x = x + rng.normal(0, sigma, x.shape)
    x = np.rot90(np.clip(np.round(x * 255), 0, 255).astype(np.uint8), TURNS[label])
    return np.ascontiguousarray(x), dict(source=name, scale=round(s, 4), roll_deg=round(math.degrees(th), 2),
                                         flip=int(flip), noise_sigma=round(sigma * 255, 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/kino-data/stills"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-label", type=int, default=600)
    ap.add_argument("--val-per-label", type=int, default=100)
    args = ap.parse_args()
    from PIL import Image
    os.nice(10)
    pictures = sources()
    partial = args.out.rstrip("/") + ".partial"
    os.makedirs(partial, exist_ok=True)
    rows = []
    for split, count in (("train", args.per_label), ("val", args.val_per_label)):
        for label in LABELS:
            os.makedirs(os.path.join(partial, split, label), exist_ok=True)
            for i in range(count):
                rng = data.rng_for(args.seed, f"still/{split}/{label}/{i}")
                img, meta = still(rng, pictures, label)
                rel = f"{split}/{label}/{label}_{i:04d}.png"
                Image.fromarray(img, "RGB").save(os.path.join(partial, rel))
                rows.append(dict(file=rel, split=split, label=label, **meta))
    with open(os.path.join(partial, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    if os.path.exists(args.out):
        import shutil
        shutil.rmtree(args.out)
    os.rename(partial, args.out)
    print(f"wrote {len(rows)} stills under {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
