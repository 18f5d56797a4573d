#!/usr/bin/env python3
"""Synthetic camera-motion clips for Kino's shipped motion classifier (models/kino-motion).

Nine labels, exactly: static, pan-left, pan-right, tilt-up, tilt-down, zoom-in, zoom-out, rotate, shake. Labels
describe the CAMERA: pan-left = the camera turns left, so the scene slides RIGHT across the frame; pan-right = it
slides left; tilt-up = the scene slides DOWN; tilt-down = it slides up; zoom-in = the scene grows; zoom-out = it
shrinks; rotate = the camera rolls (either way); shake = small jittery translation and roll with no net drift;
static = a still camera (the clip may still hold moving foreground objects and sensor noise).

Hugging Face videofolder layout: <out>/motion/{train,val,test}/<label>/*.mp4, 128x128, 24 fps, 32 frames (1.33 s),
H.264 (libx264, yuv420p, CRF 18-32, preset veryfast, one thread, bit-exact flags), plus manifest.csv and SHA256SUMS.

    tools/.venv/bin/python tools/make-default-motion.py --out ~/.cache/kino-data/defaults --seed 0 --jobs 2

with Python 3.11, numpy 1.26.4, Pillow (tools/.venv), scikit-image 0.24.0 and scikit-learn 1.5.2 (their bundled
sample photographs), FFmpeg 5.1 (Debian). Determinism: one numpy Generator per clip from
SeedSequence([seed, crc32("<split>/<label>/<index>")]); same seed and versions give byte-identical files.

Rendering: a virtual camera window (centre, size, roll) moves over a larger source picture; each output pixel is
sampled bilinearly through that affine map. Speeds: pans and tilts 0.5-4 px/frame at the output scale, zooms
0.5-2.5 %/frame, rolls 0.3-2 deg/frame, constant or eased; shake is smoothed random jitter of 1-4 px and up to
1.5 deg. Per clip: 30 % motion blur (three sub-frame renders averaged), brightness/contrast changes, sensor noise
(sigma 0-6 of 255), and in about half the clips 1-3 small foreground shapes (radius 4-10 px, up to 1.5 px/frame)
moving on their own. Procedural textures are value noise or random shapes (no stripes or checkerboards, whose
motion is ambiguous).

Sources, partitioned so the test split is rendered only from pictures no training or validation clip used:
- train/val: scikit-image astronaut, chelsea, rocket, camera, coins, page, text, grass, gravel, cell, colorwheel,
  immunohistochemistry, retina, horse, clock; scikit-learn china.jpg; frames 1 s, 3 s, 5 s of samples/clip720.mp4
  and 1 s, 4 s of samples/longgop.mp4; samples/still.jpg; procedural textures with seed keys "tex-train-*".
- test: scikit-image coffee, moon, brick, hubble_deep_field, cat; scikit-learn flower.jpg; frame 1 s of
  samples/vfr.mp4; procedural textures with seed keys "tex-test-*".
Counts per label: train 300, val 40, test 80 (times --scale).
"""
import argparse
import csv
import hashlib
import multiprocessing as mp
import os
import subprocess
import time
import zlib

import numpy as np
from PIL import Image

LABELS = ["static", "pan-left", "pan-right", "tilt-up", "tilt-down", "zoom-in", "zoom-out", "rotate", "shake"]
COUNTS = {"train": 300, "val": 40, "test": 80}
SIZE, FRAMES, FPS = 128, 32, 24
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_SK = ["astronaut", "chelsea", "rocket", "camera", "coins", "page", "text", "grass", "gravel", "cell", "colorwheel",
            "immunohistochemistry", "retina", "horse", "clock"]
TEST_SK = ["coffee", "moon", "brick", "hubble_deep_field", "cat"]
TRAIN_FRAMES = [("clip720.mp4", 1), ("clip720.mp4", 3), ("clip720.mp4", 5), ("longgop.mp4", 1), ("longgop.mp4", 4)]
TEST_FRAMES = [("vfr.mp4", 1)]


def rng_for(seed, key):
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode())]))


def as_rgb(a):
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        a = (255 * (a - a.min()) / (np.ptp(a) + 1e-9)).astype(np.uint8)
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    return a[..., :3].astype(np.float32) / 255


def video_frame(name, second):
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(second), "-i", os.path.join(REPO, "samples", name), "-frames:v", "1",
                          "-f", "image2pipe", "-vcodec", "png", "-"], capture_output=True, check=True).stdout
    import io
    return as_rgb(Image.open(io.BytesIO(out)).convert("RGB"))


def texture(key):
    rng = rng_for(0, key)
    # Value noise or shapes: stripes and checkerboards repeat, which makes their motion ambiguous.
    kind = int(rng.choice([0, 3]))
    n = 512
    y, x = np.mgrid[0:n, 0:n] / n
    if kind == 0:      # value noise, several octaves, coloured
        img = np.zeros((n, n, 3), np.float32)
        for octave in range(1, 6):
            g = rng.random((2 ** octave + 1, 2 ** octave + 1, 3))
            img += np.asarray(Image.fromarray((g * 255).astype(np.uint8)).resize((n, n), Image.BICUBIC), np.float32) / 255 / octave
        img /= img.max()
    elif kind == 1:    # stripes at an angle
        a, f = rng.uniform(0, np.pi), rng.uniform(8, 40)
        v = 0.5 + 0.5 * np.sin(2 * np.pi * f * (x * np.cos(a) + y * np.sin(a)))
        img = np.stack([v * c for c in rng.uniform(0.3, 1, 3)], -1)
    elif kind == 2:    # checkerboard
        k = int(rng.integers(8, 40))
        v = ((np.floor(x * k) + np.floor(y * k)) % 2).astype(np.float32)
        img = np.stack([0.2 + 0.6 * v * c for c in rng.uniform(0.5, 1, 3)], -1)
    else:              # random rectangles and circles
        img = np.full((n, n, 3), rng.uniform(0, 1, 3), np.float32)
        for _ in range(60):
            c = rng.uniform(0, 1, 3)
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.02, 0.12)
            m = ((x - cx) ** 2 + (y - cy) ** 2 < r * r) if rng.random() < 0.5 else ((abs(x - cx) < r) & (abs(y - cy) < r * rng.uniform(0.3, 1.5)))
            img[m] = c
    return img.astype(np.float32)


SOURCES = {}


def load_sources():
    import skimage.data as skd
    from sklearn.datasets import load_sample_images
    sample = dict(zip(["china", "flower"], load_sample_images().images))
    out = {"train": [], "test": []}
    for name in TRAIN_SK:
        out["train"].append(("skimage:" + name, as_rgb(getattr(skd, name)())))
    for name in TEST_SK:
        out["test"].append(("skimage:" + name, as_rgb(getattr(skd, name)())))
    out["train"].append(("sklearn:china", as_rgb(sample["china"])))
    out["test"].append(("sklearn:flower", as_rgb(sample["flower"])))
    for name, s in TRAIN_FRAMES:
        out["train"].append((f"{name}@{s}s", video_frame(name, s)))
    for name, s in TEST_FRAMES:
        out["test"].append((f"{name}@{s}s", video_frame(name, s)))
    out["train"].append(("still.jpg", as_rgb(Image.open(os.path.join(REPO, "samples/still.jpg")).convert("RGB"))))
    for i in range(12):
        out["train"].append((f"texture:tex-train-{i}", texture(f"tex-train-{i}")))
    for i in range(6):
        out["test"].append((f"texture:tex-test-{i}", texture(f"tex-test-{i}")))
    # At least 512 px on the short side, so a window can travel without leaving the picture.
    for split in out:
        resized = []
        for name, img in out[split]:
            h, w = img.shape[:2]
            f = max(1.0, 512 / min(h, w))
            if f > 1:
                img = np.asarray(Image.fromarray((img * 255).astype(np.uint8)).resize((int(w * f), int(h * f)), Image.BICUBIC), np.float32) / 255
            resized.append((name, img))
        out[split] = resized
    return out


def sample(img, cx, cy, size, roll):
    """The SIZE x SIZE view of a window centred at (cx, cy), `size` source pixels wide, rolled by `roll` radians."""
    h, w = img.shape[:2]
    u = (np.arange(SIZE) + 0.5) / SIZE - 0.5
    uu, vv = np.meshgrid(u, u)
    c, s = np.cos(roll), np.sin(roll)
    x = cx + size * (c * uu - s * vv) - 0.5
    y = cy + size * (s * uu + c * vv) - 0.5
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    a, b = img[y0, x0], img[y0, x0 + 1]
    cc, d = img[y0 + 1, x0], img[y0 + 1, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy


def smooth_noise(rng, n, amplitude):
    k = rng.normal(0, 1, n + 8)
    k = np.convolve(k, np.ones(3) / 3, mode="same")[4:4 + n]
    return amplitude * k / (np.abs(k).max() + 1e-9)


def camera_path(rng, label, size0):
    """Per-frame (dx, dy, size, roll) relative to the start, in source pixels and radians."""
    t = np.arange(FRAMES, dtype=np.float64)
    ease = rng.random() < 0.4
    prog = (FRAMES - 1) * (0.5 - 0.5 * np.cos(np.pi * t / (FRAMES - 1))) if ease else t
    px = size0 / SIZE                                   # source pixels per output pixel
    dx, dy, roll = np.zeros(FRAMES), np.zeros(FRAMES), np.zeros(FRAMES)
    size = np.full(FRAMES, size0)
    meta = {}
    if label in ("pan-left", "pan-right", "tilt-up", "tilt-down"):
        v = rng.uniform(0.5, 4.0)
        meta["speed_px_per_frame"] = round(v, 2)
        move = v * px * prog
        if label == "pan-left":
            dx = -move                                  # the window goes left: the scene slides right
        elif label == "pan-right":
            dx = move
        elif label == "tilt-up":
            dy = -move                                  # the window goes up: the scene slides down
        else:
            dy = move
        drift = rng.uniform(-0.15, 0.15) * v * px * prog   # a little off-axis drift
        if label.startswith("pan"):
            dy = dy + drift
        else:
            dx = dx + drift
    elif label in ("zoom-in", "zoom-out"):
        r = rng.uniform(0.005, 0.025)
        meta["zoom_per_frame"] = round(r, 4)
        size = size0 * (1 - r) ** prog if label == "zoom-in" else size0 * (1 + r) ** prog
    elif label == "rotate":
        w = np.deg2rad(rng.uniform(0.3, 2.0)) * (1 if rng.random() < 0.5 else -1)
        meta["roll_deg_per_frame"] = round(float(np.rad2deg(w)), 3)
        roll = w * prog
    elif label == "shake":
        a = rng.uniform(1.0, 4.0)
        meta["shake_px"] = round(a, 2)
        dx = smooth_noise(rng, FRAMES, a * px)
        dy = smooth_noise(rng, FRAMES, a * px)
        roll = smooth_noise(rng, FRAMES, np.deg2rad(rng.uniform(0, 1.5)))
        dx, dy = dx - dx.mean(), dy - dy.mean()
    else:  # static: a tripod; at most sub-pixel wobble
        dx = smooth_noise(rng, FRAMES, rng.uniform(0, 0.15) * px)
        dy = smooth_noise(rng, FRAMES, rng.uniform(0, 0.15) * px)
    return dx, dy, size, roll, meta


def foreground(rng, sources_split):
    objects = []
    for _ in range(int(rng.integers(1, 4))):
        r = rng.uniform(4, 10)
        objects.append(dict(x=rng.uniform(10, SIZE - 10), y=rng.uniform(10, SIZE - 10), vx=rng.uniform(-1.5, 1.5), vy=rng.uniform(-1.5, 1.5),
                            r=r, color=rng.uniform(0, 1, 3), circle=bool(rng.random() < 0.5)))
    return objects


def draw(frame, objects, t):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    for o in objects:
        cx, cy = o["x"] + o["vx"] * t, o["y"] + o["vy"] * t
        m = ((xx - cx) ** 2 + (yy - cy) ** 2 < o["r"] ** 2) if o["circle"] else ((abs(xx - cx) < o["r"]) & (abs(yy - cy) < o["r"] * 0.7))
        frame[m] = o["color"]
    return frame


def make_clip(job):
    seed, split, label, i, root = job
    rng = rng_for(seed, f"{split}/{label}/{i}")
    pool = SOURCES["test" if split == "test" else "train"]
    name, img = pool[int(rng.integers(0, len(pool)))]
    if rng.random() < 0.5:
        img = img[:, ::-1]
    h, w = img.shape[:2]
    size0 = rng.uniform(0.25, 0.55) * min(h, w)
    dx, dy, size, roll, meta = camera_path(rng, label, size0)
    # Start where the whole path stays inside the picture (with room for the rolled corners).
    reach = 0.75 * size.max()
    lo_x, hi_x = reach - dx.min(), w - reach - dx.max()
    lo_y, hi_y = reach - dy.min(), h - reach - dy.max()
    cx0 = rng.uniform(lo_x, hi_x) if hi_x > lo_x else w / 2
    cy0 = rng.uniform(lo_y, hi_y) if hi_y > lo_y else h / 2
    blur = rng.random() < 0.3
    gain, bias = rng.uniform(0.7, 1.3), rng.uniform(-0.1, 0.1)
    sigma = rng.uniform(0, 6) / 255
    objects = foreground(rng, pool) if rng.random() < 0.5 else []
    crf = int(rng.integers(18, 33))
    frames = []
    for t in range(FRAMES):
        subs = [t - 1 / 3, t, t + 1 / 3] if blur else [t]
        acc = np.zeros((SIZE, SIZE, 3), np.float32)
        for st in subs:
            a = min(max(st, 0), FRAMES - 1)
            k0 = int(np.floor(a)); k1 = min(k0 + 1, FRAMES - 1); f = a - k0
            lerp = lambda arr: arr[k0] * (1 - f) + arr[k1] * f
            acc += sample(img, cx0 + lerp(dx), cy0 + lerp(dy), lerp(size), lerp(roll))
        frame = acc / len(subs)
        frame = draw(frame, objects, t)
        frame = frame * gain + bias + rng.normal(0, sigma, frame.shape)
        frames.append(np.clip(np.round(frame * 255), 0, 255).astype(np.uint8))
    rel = f"{split}/{label}/{label}_{i:04d}.mp4"
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{SIZE}x{SIZE}", "-r", str(FPS),
                    "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p", "-threads", "1",
                    "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", path],
                   input=np.stack(frames).tobytes(), check=True)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    meta.update(file=rel, split=split, label=label, source=name, blur=blur, crf=crf, objects=len(objects),
                ease="", noise=round(sigma * 255, 2))
    return rel, meta, digest


def init_worker():
    os.nice(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/kino-data/defaults"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    root = os.path.join(os.path.expanduser(args.out), "motion")
    jobs = [(args.seed, split, label, i, root) for split, per in COUNTS.items() for label in LABELS
            for i in range(max(1, int(round(per * args.scale))))]
    started = time.time()
    SOURCES.update(load_sources())   # before the workers fork, which inherit it
    with mp.Pool(args.jobs, initializer=init_worker) as pool:
        results = sorted(pool.map(make_clip, jobs, chunksize=4))
    keys = sorted({k for _, m, _ in results for k in m} - {"file"})
    with open(os.path.join(root, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file"] + keys)
        for rel, meta, _ in results:
            w.writerow([rel] + [meta.get(k, "") for k in keys])
    with open(os.path.join(root, "SHA256SUMS"), "w") as f:
        for rel, _, digest in results:
            f.write(f"{digest}  {rel}\n")
    for split in COUNTS:
        n = sum(1 for _, m, _ in results if m["split"] == split)
        print(f"motion/{split}: {n} clips, {n // len(LABELS)} per label")
    print(f"wrote {len(results)} clips under {root} in {time.time() - started:.1f} s with {args.jobs} processes")


if __name__ == "__main__":
    main()
