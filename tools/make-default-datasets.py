#!/usr/bin/env python3
"""Synthetic, labelled training data for Kino's two shipped default models (models/kino-sounds, models/kino-motion).

Two tasks in Hugging Face audiofolder / videofolder layout, written OUTSIDE the repository:

  <out>/sounds/{train,val,test}/<label>/*.wav   8 labels: speech music silence noise siren alarm bell knock
  <out>/motion/{train,val,test}/<label>/*.mp4   9 labels: static pan-left pan-right tilt-up tilt-down zoom-in
                                                  zoom-out rotate shake
  <out>/<task>/manifest.csv                     generation parameters of every file (ignored by the loaders)
  <out>/<task>/SHA256SUMS                       `cd <out>/motion && sha256sum -c SHA256SUMS` checks a rerun
  <out>/README.md                               what is there, with the actual counts per split and label

Command (from the repository root; the full run of both tasks took 15.5 min with two processes on two otherwise
idle cores, about 2 min of it sounds; 8180 files, 276 MB of WAV and 43 MB of MP4):

    python3 -m venv tools/.venv-data
    tools/.venv-data/bin/pip install numpy==1.26.4 pillow==10.4.0 scikit-image==0.24.0 scikit-learn==1.5.2
    tools/.venv-data/bin/python tools/make-default-datasets.py --out ~/.cache/kino-data/defaults --seed 0 --jobs 2

    --tasks sounds,motion   which tasks (default both); --scale 0.05 a tiny set for a quick check (per-label counts
    are max(1, round(count * scale))); --jobs worker processes (default 2); everything runs niced (os.nice(10)).

Checked with Python 3.11.7, numpy 1.26.4, Pillow 10.4.0, scikit-image 0.24.0 (scipy 1.17.1 came with it),
scikit-learn 1.5.2, espeak-ng 1.51 (Debian, espeak-ng-data, no MBROLA), SoX 14.4.2, FFmpeg 5.1.9 (Debian 12,
libx264, libmp3lame, libopus). The sounds task alone also runs with the system python3 (numpy 2.4.6) and gives the
same bytes. A task is written to <out>/.<task>.partial and swapped in when complete, so a reader never sees a
half-written set.

Determinism: every file has its own numpy Generator seeded with SeedSequence([seed, crc32(key)]), key
"<split>/<label>/<index>" (sounds) or "motion/<split>/<label>/<index>" (motion); procedural textures have their own
keys (below). Output therefore does not depend on --jobs or scheduling. espeak-ng, SoX and FFmpeg run with fixed
arguments (FFmpeg single-threaded, -fflags +bitexact, -flags:v/-flags:a +bitexact, -map_metadata -1), frames are
rendered in float64 numpy and rounded once. Same seed + same tool versions => byte-identical files (SHA256SUMS).

Sounds (16 kHz mono 16-bit PCM WAV, exactly 2.00 s = 32000 samples; train 400, val 50, test 100 per label): this
task IS tools/make-default-sounds.py (imported, not copied), so `--tasks sounds` writes byte-for-byte the files,
manifest.csv and SHA256SUMS that script writes, and the committed FLAC sample of its test split in
Tests/KinoCLITests/Fixtures/kino-sounds-test stays a sample of this data. See that script's docstring for the
synthesis (espeak-ng speech in 12 languages with voice variants, speed 110-230, pitch 20-80, SoX tempo/pitch
jitter; additive/FM/Karplus-Strong/organ music with chords, melodies, arpeggios, bass and drums at 60-180 bpm;
digital silence / -90..-55 dBFS hiss, room tone, hum; white/pink/brown, fan, hum, crackle and rumble noise;
wail/yelp/hi-lo sirens; 1-4 kHz beep patterns; struck, FM, chime, doorbell, phone and bicycle bells; door
knocks, taps, claps and clicks) and its augmentation (level -35..-8 dBFS active RMS except silence, 30 % room
reverb, background noise at 5..35 dB SNR on half of the non-silence/non-noise files, 20 % MP3/Opus round trips at
32-96 kbit/s). Held out in test (besides its own seed keys): the espeak-ng voice variants m7 m8 f4 f5 klatt4 steph2
iven3 grandpa gustave Diogo (train and val use other, disjoint variant sets) and Swedish and Turkish speech; the
harmonic-minor and whole-tone melody scales; sirens with 1.25x faster sweeps; alarms at 4-5 kHz.

Motion (128x128, 24 fps, 32 frames = 1.33 s, H.264 yuv420p, libx264 -preset veryfast, CRF 18-32 per clip;
train 300, val 40, test 80 per label). Labels describe the CAMERA:
  pan-left  = the camera turns left, the scene slides RIGHT across the frame;  pan-right = the scene slides left;
  tilt-up   = the scene slides DOWN;  tilt-down = the scene slides up;  zoom-in = the scene grows;
  zoom-out  = it shrinks;  rotate = the camera rolls (either way);  shake = small smoothed random jitter of
  position (0.8-3 px RMS) and roll (up to 0.7 deg RMS), linear trend removed so there is no net drift;
  static    = the camera does not move at all (the clip may still hold moving foreground objects, sensor noise,
              exposure drift or flicker, so "static" is not "nothing changes").
Rendering: a virtual camera window (centre, scale in source px per output px 0.7-1.8, roll) moves over a larger
source picture; every output pixel is sampled bilinearly from a 2x box-filtered mip pyramid of the source (blended
between the two nearest levels, so zoom-outs do not alias), the window always stays inside the picture, and of
16 candidate start positions the first whose first, middle and last frames all have texture in both x and y
(>= 15 % of pixels change by > 0.04 in a channel over 4 px) is used, else the best (manifest column texture_score).
Speeds (the mean over the clip): pans and tilts 0.5-4 px/frame at output scale, zooms 0.5-2.5 %/frame, rolls
0.3-2 deg/frame; profile constant (40 %), ease-in-out, ease-in or ease-out (peaks capped at 6 px, 3.5 %, 3 deg per
frame); pans/tilts drift off-axis by up to 12 % of their speed; a quarter of the moving clips carry a faint
0.1-0.4 px handheld jitter. Per clip: 30 % motion blur (three sub-frame renders at t-1/3, t, t+1/3 averaged),
a random horizontal flip of the source, contrast 0.75-1.25, brightness +-0.08, gamma 0.8-1.25, white balance
+-8 %, 25 % an exposure ramp of up to +-0.12, 10 % flicker, sensor noise sigma 0.5-6/255 in 80 % of the clips, and
in half the clips of every label 1-3 foreground objects (discs, boxes, ellipses or cut-out patches of another
picture, 3-12 px radius) moving on their own at 0.3-3 px/frame with wobble and spin, independent of the camera.
Sources, partitioned so that test clips are rendered only from pictures no train or val clip uses:
  train+val  photographs: skimage.data astronaut camera chelsea coins rocket immunohistochemistry retina grass
             gravel page text, sklearn china.jpg; frames of samples/clip720.mp4 at 0.5 2.5 4.5 s and
             samples/longgop.mp4 at 1 7 13 s (FFmpeg testsrc2 patterns); samples/still.jpg (Mandelbrot);
             procedural textures 0-299 with keys "motion-texture/trainval/<id>".
  test only  photographs: skimage.data coffee stereo_motorcycle (left view) hubble_deep_field moon brick, sklearn
             flower.jpg; frames of samples/vfr.mp4 at 0.5 1.8 3.2 s (FFmpeg testsrc, a different pattern);
             procedural textures 0-99 with keys "motion-texture/test/<id>" (value noise, angled and plaid stripes,
             perspective checkerboards, random rectangles/circles/ellipses; all seeds disjoint from train's).
  Not used: skimage cat (the same picture as chelsea), clock (itself motion-blurred by a moving camera), cell and
  colorwheel (almost no texture), horse, logo, microaneurysms, lfw_subset, checkerboard, shepp_logan_phantom (flat,
  binary or tiny), samples/still.png (the same Mandelbrot as still.jpg), and the skimage images that need a download
  (brain, cells3d, eagle, kidney, lily, skin, vortex, ...); only pictures bundled in the scikit-image 0.24.0 wheel
  are loaded, nothing is downloaded.
  Per clip the source kind is a photograph (45 %), a video frame (20 %) or a procedural texture (35 %).
Train and val share sources (val has its own seed keys). Do not train with horizontal flips: a mirror swaps
pan-left and pan-right (tools/train-default-models.sh passes --no-flip).
"""
import argparse
import csv
import hashlib
import importlib.util
import math
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TASKS = ["sounds", "motion"]

# ----------------------------------------------------------------------------------------------- common

def rng_for(seed, key):
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode())]))


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def per_label(counts, scale):
    return {split: max(1, int(round(n * scale))) for split, n in counts.items()}


# ----------------------------------------------------------------------------------------------- sounds

SOUNDS = None  # tools/make-default-sounds.py, loaded on demand


def load_sounds():
    global SOUNDS
    if SOUNDS is None:
        spec = importlib.util.spec_from_file_location("make_default_sounds", os.path.join(HERE, "make-default-sounds.py"))
        SOUNDS = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(SOUNDS)
    return SOUNDS


def sound_job(root, job):
    rel, meta, digest = SOUNDS.run_job((root, job))
    return rel, meta, digest


def write_sound_tables(root, results):
    """Exactly as tools/make-default-sounds.py writes them."""
    results.sort()
    keys = sorted({k for _, m, _ in results for k in m} - {"file"})
    with open(os.path.join(root, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file"] + keys)
        for rel, meta, _ in results:
            w.writerow([rel] + [meta.get(k, "") for k in keys])
    with open(os.path.join(root, "SHA256SUMS"), "w") as f:
        for rel, _, digest in results:
            f.write(f"{digest}  {rel}\n")


# ----------------------------------------------------------------------------------------------- motion

MOTION_LABELS = ["static", "pan-left", "pan-right", "tilt-up", "tilt-down", "zoom-in", "zoom-out", "rotate", "shake"]
MOTION_COUNTS = {"train": 300, "val": 40, "test": 80}
SIZE, FRAMES, FPS = 128, 32, 24
SOURCE_SHORT_SIDE = 512
TEXTURE_SIZE = 512
PHOTOS = {
    "trainval": ["skimage:astronaut", "skimage:camera", "skimage:chelsea", "skimage:coins", "skimage:rocket",
                 "skimage:immunohistochemistry", "skimage:retina", "skimage:grass", "skimage:gravel", "skimage:page",
                 "skimage:text", "sklearn:china", "file:samples/still.jpg"],
    "test": ["skimage:coffee", "skimage:stereo_motorcycle", "skimage:hubble_deep_field", "skimage:moon",
             "skimage:brick", "sklearn:flower"],
}
VIDEO_FRAMES = {
    "trainval": [("clip720.mp4", 0.5), ("clip720.mp4", 2.5), ("clip720.mp4", 4.5), ("longgop.mp4", 1.0),
                 ("longgop.mp4", 7.0), ("longgop.mp4", 13.0)],
    "test": [("vfr.mp4", 0.5), ("vfr.mp4", 1.8), ("vfr.mp4", 3.2)],
}
TEXTURE_IDS = {"trainval": 300, "test": 100}
CANDIDATES, MIN_TEXTURE = 16, 0.15   # start positions tried; texture_score that ends the search
SOURCE_KINDS = (["photo", "video", "texture"], [0.45, 0.20, 0.35])
SOURCES = {}  # group -> {"photo": [(name, pyramid)], "video": [...]}, filled before the workers fork


def group_of(split):
    return "test" if split == "test" else "trainval"


def to_float_rgb(a):
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        a = np.round(255 * (a - a.min()) / (np.ptp(a) + 1e-12)).astype(np.uint8)
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    return a[..., :3]


def normalise_size(rgb8):
    """uint8 RGB -> float32 RGB in [0, 1] with the short side SOURCE_SHORT_SIDE (Pillow bicubic / Lanczos)."""
    from PIL import Image
    h, w = rgb8.shape[:2]
    f = SOURCE_SHORT_SIDE / min(h, w)
    size = (int(round(w * f)), int(round(h * f)))
    im = Image.fromarray(np.ascontiguousarray(rgb8), "RGB")
    im = im.resize(size, Image.BICUBIC if f > 1 else Image.LANCZOS)
    return np.asarray(im, dtype=np.float32) / 255.0


def load_photo(name):
    kind, what = name.split(":", 1)
    if kind == "skimage":
        import skimage.data as skd
        a = getattr(skd, what)()
        if what == "stereo_motorcycle":
            a = a[0]
        return to_float_rgb(a)
    if kind == "sklearn":
        from sklearn.datasets import load_sample_image
        return to_float_rgb(load_sample_image(what + ".jpg"))
    from PIL import Image
    return np.asarray(Image.open(os.path.join(REPO, what)).convert("RGB"))


def video_frame(name, second):
    path = os.path.join(REPO, "samples", name)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", path], capture_output=True, check=True, text=True).stdout
    w, h = (int(v) for v in probe.strip().split(",")[:2])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-ss", f"{second}", "-i", path, "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8)[: w * h * 3].reshape(h, w, 3)


def pyramid(img):
    levels = [np.ascontiguousarray(img, dtype=np.float32)]
    while min(levels[-1].shape[:2]) >= 2 * SIZE:
        a = levels[-1]
        h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
        a = a[:h, :w]
        levels.append(((a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) * 0.25).astype(np.float32))
    return levels


def load_sources():
    for group in ("trainval", "test"):
        photos = [(name, pyramid(normalise_size(load_photo(name)))) for name in PHOTOS[group]]
        frames = [(f"samples/{n}@{s}s", pyramid(normalise_size(video_frame(n, s)))) for n, s in VIDEO_FRAMES[group]]
        SOURCES[group] = {"photo": photos, "video": frames}


# --- procedural textures

def value_noise(rng, h, w, cells, octaves, channels=1, persistence=0.55):
    out = np.zeros((h, w, channels))
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = cells * 2 ** o
        g = rng.random((c + 1, c + 1, channels))
        ys, xs = np.arange(h) * (c / h), np.arange(w) * (c / w)
        iy, ix = ys.astype(int), xs.astype(int)
        fy, fx = ys - iy, xs - ix
        fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)
        g1 = g[iy] * (1 - fy)[:, None, None] + g[iy + 1] * fy[:, None, None]
        out += amp * (g1[:, ix] * (1 - fx)[None, :, None] + g1[:, ix + 1] * fx[None, :, None])
        total += amp
        amp *= persistence
    out /= total
    return out


def stretch(v):
    lo, hi = np.percentile(v, 1), np.percentile(v, 99)
    return np.clip((v - lo) / (hi - lo + 1e-12), 0, 1)


def palette(rng, v, stops):
    """Scalar field v in [0,1] -> RGB through `stops` random colours."""
    cols = rng.random((stops, 3))
    xs = np.linspace(0, 1, stops)
    return np.stack([np.interp(v, xs, cols[:, c]) for c in range(3)], -1)


def texture(seed, group, tid):
    rng = rng_for(seed, f"motion-texture/{group}/{tid}")
    n = TEXTURE_SIZE
    kind = str(rng.choice(["noise", "stripes", "checker", "shapes"]))
    yy, xx = np.mgrid[0:n, 0:n] / n
    mod = stretch(value_noise(rng, n, n, int(rng.integers(3, 7)), 4)[..., 0])   # breaks up periodic patterns
    if kind == "noise":
        v = stretch(value_noise(rng, n, n, int(rng.integers(4, 17)), int(rng.integers(4, 7)),
                                persistence=float(rng.uniform(0.55, 0.8)))[..., 0])
        img = palette(rng, v, int(rng.integers(3, 7)))
        img = img * (0.7 + 0.6 * value_noise(rng, n, n, int(rng.integers(16, 48)), 2, 3))
    elif kind == "stripes":
        def stripes():
            a, f = rng.uniform(0, np.pi), rng.uniform(6, 30)
            s = np.sin(2 * np.pi * (f * (xx * np.cos(a) + yy * np.sin(a))) + rng.uniform(0, 2 * np.pi))
            return 0.5 + 0.5 * np.tanh(rng.uniform(0.5, 6) * s)
        v = stripes()
        if rng.random() < 0.4:
            v = 0.5 * (v + stripes())        # plaid
        c1, c2 = rng.random(3), rng.random(3)
        img = c1 * v[..., None] + c2 * (1 - v[..., None])
        img = img * (0.55 + 0.7 * mod[..., None])
    elif kind == "checker":
        yh = rng.uniform(-0.8, 0.25)                 # horizon (may be above the picture)
        cells = rng.uniform(6, 20)
        k = rng.uniform(0.5, 2.0)
        beta = rng.uniform(0, np.pi / 2)
        d = np.maximum(yy - yh, 1e-3)
        z = k / d
        X = (xx - rng.uniform(0.3, 0.7)) * z
        Xr, Zr = X * np.cos(beta) - z * np.sin(beta), X * np.sin(beta) + z * np.cos(beta)
        v = ((np.floor(Xr * cells) + np.floor(Zr * cells)) % 2).astype(np.float64)
        cpp = cells * np.maximum(k / (d * d), z) / n          # cells per pixel: fade to the mean where it aliases
        alpha = np.clip(1 - (cpp - 0.2) / 0.25, 0, 1)
        v = alpha * v + (1 - alpha) * 0.5
        c1, c2 = rng.random(3), rng.random(3)
        img = c1 * v[..., None] + c2 * (1 - v[..., None])
        img = img * (0.6 + 0.6 * mod[..., None])
        sky = yy <= yh + 0.02
        if sky.any():
            img[sky] = palette(rng, stretch(value_noise(rng, n, n, 3, 4)[..., 0]), 2)[sky]
    else:
        img = palette(rng, stretch(value_noise(rng, n, n, 3, 3)[..., 0]), 3)
        for _ in range(int(rng.integers(100, 320))):
            r = float(np.exp(rng.uniform(np.log(0.006), np.log(0.12)))) * n
            cx, cy = rng.uniform(0, n), rng.uniform(0, n)
            shape = rng.integers(0, 3)
            asp, ang = rng.uniform(0.3, 1.0), rng.uniform(0, np.pi)
            col = rng.random(3)
            x0, x1 = int(max(0, cx - r - 1)), int(min(n, cx + r + 2))
            y0, y1 = int(max(0, cy - r - 1)), int(min(n, cy + r + 2))
            if x1 <= x0 or y1 <= y0:
                continue
            py, px = np.mgrid[y0:y1, x0:x1] + 0.5
            dx, dy = px - cx, py - cy
            u, w = dx * np.cos(ang) + dy * np.sin(ang), -dx * np.sin(ang) + dy * np.cos(ang)
            if shape == 0:
                m = dx * dx + dy * dy < r * r
            elif shape == 1:
                m = (np.abs(u) < r * 0.7) & (np.abs(w) < r * 0.7 * asp)
            else:
                m = (u / r) ** 2 + (w / (r * asp)) ** 2 < 1
            patch = img[y0:y1, x0:x1]
            patch[m] = col * (0.8 + 0.4 * mod[y0:y1, x0:x1][m][:, None])
    img = img * (0.85 + 0.3 * mod[..., None])
    return np.clip(img, 0, 1).astype(np.float32), kind


# --- rendering

_U = np.arange(SIZE) + 0.5 - SIZE / 2
_UU, _VV = np.meshgrid(_U, _U)


def bilinear(img, x, y):
    """Sample img (HxWxC) at continuous pixel-index coordinates (pixel i's centre at i), edges clamped."""
    h, w, c = img.shape
    flat = img.reshape(-1, c)           # a view: images here are C-contiguous
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0 = np.minimum(x.astype(np.intp), w - 2)
    y0 = np.minimum(y.astype(np.intp), h - 2)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    i = y0 * w + x0
    return ((flat[i] * (1 - fx) + flat[i + 1] * fx) * (1 - fy)
            + (flat[i + w] * (1 - fx) + flat[i + w + 1] * fx) * fy)


def render(pyr, cx, cy, s, th, flip=False):
    """The SIZE x SIZE view of a camera centred at (cx, cy) (level-0 continuous coordinates, pixel i spans [i, i+1)),
    s source pixels per output pixel, rolled by th radians; flip: of the source mirrored left-right."""
    c, sn = math.cos(th), math.sin(th)
    X = cx + s * (c * _UU - sn * _VV)
    if flip:
        X = pyr[0].shape[1] - X
    Y = cy + s * (sn * _UU + c * _VV)
    lv = min(max(math.log2(s), 0.0), len(pyr) - 1.0)
    l0 = int(math.floor(lv))
    f = lv - l0

    def at(level):
        k = 2.0 ** level
        return bilinear(pyr[level], X / k - 0.5, Y / k - 0.5)
    out = at(l0)
    if f > 1e-6 and l0 + 1 < len(pyr):
        out = out * (1 - f) + at(l0 + 1) * f
    return out


def texture_score(frame):
    """Fraction of pixels where some colour channel changes by more than 0.04 over 4 px, the smaller of x and y: a
    window without structure in one direction would hide motion along it."""
    dx = np.abs(frame[:, 4:] - frame[:, :-4]).max(axis=2)
    dy = np.abs(frame[4:] - frame[:-4]).max(axis=2)
    return float(min((dx > 0.04).mean(), (dy > 0.04).mean()))


PROFILES = (["constant", "ease-in-out", "ease-in", "ease-out"], [0.4, 0.3, 0.15, 0.15])
PEAK = {"constant": 1.0, "ease-in-out": math.pi / 2, "ease-in": 2.0, "ease-out": 2.0}


def progress(profile, t):
    u = np.clip(np.asarray(t, dtype=np.float64) / (FRAMES - 1), 0, 1)
    if profile == "constant":
        return u
    if profile == "ease-in-out":
        return 0.5 - 0.5 * np.cos(np.pi * u)
    if profile == "ease-in":
        return u * u
    return 1 - (1 - u) ** 2


def jitter(rng, rms, corr):
    """Smoothed random per-frame offsets (length FRAMES), linear trend removed, scaled to `rms`."""
    k = np.exp(-0.5 * (np.arange(-8, 9) / corr) ** 2)
    w = np.convolve(rng.standard_normal(FRAMES + 16), k / k.sum(), mode="valid")[:FRAMES]
    t = np.arange(FRAMES)
    w = w - np.polyval(np.polyfit(t, w, 1), t)
    return w * (rms / (np.sqrt((w ** 2).mean()) + 1e-12))


def camera_plan(rng, label):
    """Relative camera path as functions of continuous frame time: (ox(t), oy(t)) in OUTPUT pixels of the initial
    scale, zoom factor z(t) (window size / initial size) and roll th(t) in radians; plus manifest fields."""
    t_frames = np.arange(FRAMES, dtype=np.float64)
    meta = {}
    profile = "constant"
    zx = np.zeros(FRAMES)
    zy = np.zeros(FRAMES)
    zr = np.zeros(FRAMES)
    jit = 0.0
    if label != "static" and label != "shake" and rng.random() < 0.25:      # faint handheld jitter
        jit = float(rng.uniform(0.1, 0.4))
        zx, zy = jitter(rng, jit, 1.5), jitter(rng, jit, 1.5)
    meta["jitter_px"] = round(jit, 3)
    prof = lambda t: 0.0 * np.asarray(t, dtype=np.float64)
    move = {"ox": 0.0, "oy": 0.0, "zoom": 0.0, "roll": 0.0}
    if label in ("pan-left", "pan-right", "tilt-up", "tilt-down", "zoom-in", "zoom-out", "rotate"):
        profile = str(rng.choice(PROFILES[0], p=PROFILES[1]))
        prof = lambda t, p=profile: progress(p, t)
        cap_v, cap_z, cap_r = 6.0, 0.035, 3.0
        pk = PEAK[profile]
        if label in ("pan-left", "pan-right", "tilt-up", "tilt-down"):
            v = float(rng.uniform(0.5, min(4.0, cap_v / pk)))
            drift = float(rng.uniform(-0.12, 0.12))
            D = v * (FRAMES - 1)                         # content displacement in output px
            along = {"pan-left": -D, "pan-right": D, "tilt-up": -D, "tilt-down": D}[label]  # camera-centre motion
            if label.startswith("pan"):
                move["ox"], move["oy"] = along, drift * D
            else:
                move["oy"], move["ox"] = along, drift * D
            meta.update(speed=round(v, 3), peak=round(v * pk, 3), drift=round(drift, 3))
        elif label in ("zoom-in", "zoom-out"):
            r = float(rng.uniform(0.005, min(0.025, cap_z / pk)))
            move["zoom"] = (FRAMES - 1) * math.log1p(r) * (-1 if label == "zoom-in" else 1)
            meta.update(speed=round(100 * r, 3), peak=round(100 * r * pk, 3))
        else:
            w = float(rng.uniform(0.3, min(2.0, cap_r / pk))) * (1 if rng.random() < 0.5 else -1)
            move["roll"] = math.radians(w) * (FRAMES - 1)
            meta.update(speed=round(w, 3), peak=round(abs(w) * pk, 3))
    elif label == "shake":
        a = float(rng.uniform(0.8, 3.0))
        corr = float(rng.uniform(0.7, 2.5))
        rr = float(rng.uniform(0.0, 0.7))
        zx, zy = jitter(rng, a, corr), jitter(rng, a, corr)
        zr = np.radians(jitter(rng, rr, corr)) if rr > 0 else np.zeros(FRAMES)
        meta.update(speed=round(a, 3), shake_corr_frames=round(corr, 2), shake_roll_deg=round(rr, 3))
    meta["profile"] = profile if label not in ("static", "shake") else ""

    def path(t):
        t = np.asarray(t, dtype=np.float64)
        p = prof(t)
        ox = move["ox"] * p + np.interp(t, t_frames, zx)
        oy = move["oy"] * p + np.interp(t, t_frames, zy)
        z = np.exp(move["zoom"] * p)
        th = move["roll"] * p + np.interp(t, t_frames, zr)
        return ox, oy, z, th
    return path, meta


def make_objects(rng, seed, group):
    objs = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(["disc", "box", "ellipse", "patch"]))
        r = float(rng.uniform(3, 12))
        speed, ang = float(rng.uniform(0.3, 3.0)), float(rng.uniform(0, 2 * np.pi))
        o = dict(kind=kind, r=r, x=float(rng.uniform(8, SIZE - 8)), y=float(rng.uniform(8, SIZE - 8)),
                 vx=speed * math.cos(ang), vy=speed * math.sin(ang), wob=float(rng.uniform(0, 3)),
                 wf=float(rng.uniform(0.02, 0.12)), wph=float(rng.uniform(0, 2 * np.pi)),
                 asp=float(rng.uniform(0.35, 1.0)), rot=float(rng.uniform(0, np.pi)), spin=float(rng.uniform(-0.1, 0.1)),
                 color=rng.random(3), shade=float(rng.uniform(-0.25, 0.25)), mask=str(rng.choice(["disc", "box"])))
        if kind == "patch":   # a cut-out of another picture of the same group
            pool = SOURCES[group]["photo"] + SOURCES[group]["video"]
            name, pyr = pool[int(rng.integers(0, len(pool)))]
            img = pyr[0]
            m = int(2 * r + 4)
            y0 = int(rng.integers(0, img.shape[0] - m))
            x0 = int(rng.integers(0, img.shape[1] - m))
            o["patch"] = np.ascontiguousarray(img[y0:y0 + m, x0:x0 + m], dtype=np.float64)
            o["patch_src"] = name
        objs.append(o)
    return objs


def draw_objects(frame, objs, t):
    for o in objs:
        cx = o["x"] + o["vx"] * t + o["wob"] * math.sin(2 * np.pi * o["wf"] * t + o["wph"])
        cy = o["y"] + o["vy"] * t + o["wob"] * math.cos(2 * np.pi * o["wf"] * t + o["wph"])
        r = o["r"]
        x0, x1 = max(0, int(cx - r - 2)), min(SIZE, int(cx + r + 3))
        y0, y1 = max(0, int(cy - r - 2)), min(SIZE, int(cy + r + 3))
        if x1 <= x0 or y1 <= y0:
            continue
        py, px = np.mgrid[y0:y1, x0:x1] + 0.5
        dx, dy = px - cx, py - cy
        a = o["rot"] + o["spin"] * t
        u, w = dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a)
        shape = o["mask"] if o["kind"] == "patch" else o["kind"]
        if shape == "disc":
            cov = np.clip(r - np.sqrt(dx * dx + dy * dy) + 0.5, 0, 1)
        elif shape == "box":
            cov = np.clip(r * 0.8 - np.abs(u) + 0.5, 0, 1) * np.clip(r * 0.8 * o["asp"] - np.abs(w) + 0.5, 0, 1)
        else:
            e = np.sqrt((u / r) ** 2 + (w / (r * o["asp"])) ** 2)
            cov = np.clip((1 - e) * r * o["asp"] + 0.5, 0, 1)
        if o["kind"] == "patch":
            m = o["patch"].shape[0]
            col = bilinear(o["patch"], u + m / 2 - 0.5, w + m / 2 - 0.5)
        else:
            col = o["color"] * (1 + o["shade"] * (u / r))[..., None]
        region = frame[y0:y1, x0:x1]
        frame[y0:y1, x0:x1] = region * (1 - cov[..., None]) + col * cov[..., None]
    return frame


def motion_job(root, seed, split, label, i):
    rng = rng_for(seed, f"motion/{split}/{label}/{i}")
    group = group_of(split)
    kind = str(rng.choice(SOURCE_KINDS[0], p=SOURCE_KINDS[1]))
    if kind == "texture":
        tid = int(rng.integers(0, TEXTURE_IDS[group]))
        img, tkind = texture(seed, group, tid)
        pyr = pyramid(img)
        source = f"texture:{group}/{tid}:{tkind}"
    else:
        source, pyr = SOURCES[group][kind][int(rng.integers(0, len(SOURCES[group][kind])))]
    flip = bool(rng.random() < 0.5)
    H, W = pyr[0].shape[:2]
    path, meta = camera_plan(rng, label)
    blur = bool(rng.random() < 0.3)
    times = np.concatenate([[t - 1 / 3, t, t + 1 / 3] if blur else [t] for t in range(FRAMES)])
    times = np.clip(times, 0, FRAMES - 1)
    ox, oy, z, th = path(times)
    # Initial scale, reduced until the whole path fits inside the picture with a 2 px margin.
    s0 = float(np.exp(rng.uniform(np.log(0.7), np.log(1.8))))
    corners = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float64) * (SIZE / 2)
    cs, sn = np.cos(th), np.sin(th)
    # offset of each window corner from the start centre, in units of s0 source px
    offx = ox[:, None] + z[:, None] * (cs[:, None] * corners[None, :, 0] - sn[:, None] * corners[None, :, 1])
    offy = oy[:, None] + z[:, None] * (sn[:, None] * corners[None, :, 0] + cs[:, None] * corners[None, :, 1])
    margin = 2.0
    s_fit = min((W - 2 * margin) / (offx.max() - offx.min()), (H - 2 * margin) / (offy.max() - offy.min()))
    s0 = min(s0, 0.98 * s_fit)
    lo_x, hi_x = margin - s0 * offx.min(), W - margin - s0 * offx.max()
    lo_y, hi_y = margin - s0 * offy.min(), H - margin - s0 * offy.max()
    cands = [(rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)) for _ in range(CANDIDATES)]
    best, best_score = None, -1.0
    probe_t = np.array([0.0, (FRAMES - 1) / 2, FRAMES - 1.0])
    pox, poy, pz, pth = path(probe_t)
    for cx0, cy0 in cands:
        score = min(texture_score(render(pyr, cx0 + s0 * pox[k], cy0 + s0 * poy[k], s0 * pz[k], pth[k], flip))
                    for k in range(3))
        if score > best_score:
            best, best_score = (cx0, cy0), score
        if score >= MIN_TEXTURE:
            best, best_score = (cx0, cy0), score
            break
    cx0, cy0 = best
    # photometric parameters
    contrast, bright = float(rng.uniform(0.75, 1.25)), float(rng.uniform(-0.08, 0.08))
    gamma, wb = float(rng.uniform(0.8, 1.25)), rng.uniform(0.92, 1.08, 3)
    ramp = float(rng.uniform(-0.12, 0.12)) if rng.random() < 0.25 else 0.0
    flick = (float(rng.uniform(0.01, 0.04)), float(rng.uniform(0.05, 0.3)), float(rng.uniform(0, 2 * np.pi))) \
        if rng.random() < 0.1 else (0.0, 0.0, 0.0)
    sigma = float(rng.uniform(0.5, 6.0)) / 255 if rng.random() < 0.8 else 0.0
    objs = make_objects(rng, seed, group) if rng.random() < 0.5 else []
    crf = int(rng.integers(18, 33))
    frames = np.empty((FRAMES, SIZE, SIZE, 3), np.uint8)
    per = 3 if blur else 1
    for f in range(FRAMES):
        acc = np.zeros((SIZE, SIZE, 3))
        for k in range(f * per, (f + 1) * per):
            img_k = render(pyr, cx0 + s0 * ox[k], cy0 + s0 * oy[k], s0 * z[k], th[k], flip)
            acc += draw_objects(img_k, objs, times[k])
        x = acc / per
        x = np.power(np.clip(x, 0, 1), gamma)
        x = ((x - 0.5) * contrast + 0.5 + bright + ramp * f / (FRAMES - 1)
             + flick[0] * math.sin(2 * np.pi * flick[1] * f + flick[2])) * wb
        if sigma > 0:
            x = x + rng.normal(0, sigma, x.shape)
        frames[f] = np.clip(np.round(x * 255), 0, 255).astype(np.uint8)
    rel = f"{split}/{label}/{label}_{i:04d}.mp4"
    path_out = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path_out), exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-threads", "1", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{SIZE}x{SIZE}", "-r", str(FPS), "-i", "-", "-an", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", str(crf), "-pix_fmt", "yuv420p", "-threads", "1", "-fflags", "+bitexact",
                    "-flags:v", "+bitexact", "-map_metadata", "-1", "-f", "mp4", path_out],
                   input=frames.tobytes(), capture_output=True, check=True)
    e_ox, e_oy, e_z, e_th = path(np.array([0.0, FRAMES - 1.0]))
    meta = dict(split=split, label=label, source=source, source_kind=kind, flip=int(flip), scale=round(s0, 4),
                start_x=round(cx0, 2), start_y=round(cy0, 2), **meta,
                # net motion of the SCENE across the frame between the first and the last frame (output px at the
                # initial scale; + = right / down), scene scale change (>1 = grows), camera roll
                content_dx=round(float(-(e_ox[1] - e_ox[0])), 2), content_dy=round(float(-(e_oy[1] - e_oy[0])), 2),
                scene_scale=round(float(e_z[0] / e_z[1]), 4), roll_deg=round(float(np.degrees(e_th[1] - e_th[0])), 3),
                blur=int(blur), objects=len(objs), object_kinds=" ".join(o["kind"] for o in objs),
                patch_sources=" ".join(o["patch_src"] for o in objs if "patch_src" in o),
                contrast=round(contrast, 3), brightness=round(bright, 3), gamma=round(gamma, 3),
                white_balance=" ".join(f"{v:.3f}" for v in wb), exposure_ramp=round(ramp, 3),
                flicker=round(flick[0], 3), noise_sigma=round(sigma * 255, 2), crf=crf,
                texture_score=round(best_score, 4))
    return rel, meta, sha256(path_out)


MOTION_KEYS = ["file", "split", "label", "source", "source_kind", "flip", "scale", "start_x", "start_y", "profile",
               "speed", "peak", "drift", "jitter_px", "shake_corr_frames", "shake_roll_deg", "content_dx", "content_dy",
               "scene_scale", "roll_deg", "blur", "objects", "object_kinds", "patch_sources", "contrast", "brightness",
               "gamma", "white_balance", "exposure_ramp", "flicker", "noise_sigma", "crf", "texture_score"]


def write_motion_tables(root, results):
    results.sort(key=lambda r: r[0])
    with open(os.path.join(root, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MOTION_KEYS, lineterminator="\n")
        w.writeheader()
        for rel, meta, _ in results:
            w.writerow(dict(meta, file=rel))
    with open(os.path.join(root, "SHA256SUMS"), "w") as f:
        for rel, _, digest in results:
            f.write(f"{digest}  {rel}\n")


# ----------------------------------------------------------------------------------------------- driver

def run_job(job):
    task, root, args = job
    if task == "sounds":
        return (task,) + sound_job(root, args)
    return (task,) + motion_job(root, *args)


def counts_on_disk(task_root):
    """{split: {label: n}} from a task's SHA256SUMS."""
    tab = {}
    with open(os.path.join(task_root, "SHA256SUMS")) as fh:
        for line in fh:
            split, label = line.split("  ", 1)[1].split("/")[:2]
            tab.setdefault(split, {}).setdefault(label, 0)
            tab[split][label] += 1
    return tab


README_HEAD = """\
# Kino default-model datasets

Generated by `tools/make-default-datasets.py` in the Kino repository; nothing downloaded. Same seed and tool
versions give byte-identical files (`cd <task> && sha256sum -c SHA256SUMS`). The script's docstring has the full
description (synthesis, augmentation, held-out scheme, versions). `manifest.csv` in each task folder lists the
generation parameters of every file.

"""
README_TASK = {
    "sounds": """\
## sounds ({total} files, Hugging Face audiofolder)

16 kHz mono 16-bit PCM WAV, exactly 2.00 s. Synthesised by tools/make-default-sounds.py (espeak-ng speech in 12
languages, numpy music, silence, noise, sirens, alarms, bells, knocks) with reverb, background noise and MP3/Opus
round trips. Test holds out voice variants, the Swedish and Turkish voices, two melody scales, faster
sirens and 4-5 kHz alarms.

""",
    "motion": """\
## motion ({total} files, Hugging Face videofolder)

128x128 H.264 (yuv420p), 24 fps, 32 frames. Labels describe the camera: pan-left = the scene slides right,
pan-right = it slides left, tilt-up = it slides down, tilt-down = it slides up, zoom-in = it grows, zoom-out = it
shrinks, rotate = camera roll, shake = jitter without net drift, static = no camera motion (moving foreground
objects, noise and exposure changes may still occur). Rendered by moving a virtual camera over photographs
(scikit-image, scikit-learn samples), frames of Kino's sample videos and procedural textures. The test split uses
only source pictures and texture seeds that no train/val clip uses. Do not train with horizontal flips.

""",
}


def write_readme(out, seed):
    parts = [README_HEAD]
    for task in TASKS:
        root = os.path.join(out, task)
        if not os.path.exists(os.path.join(root, "SHA256SUMS")):
            continue
        tab = counts_on_disk(root)
        labels = sorted({l for s in tab.values() for l in s})
        splits = [s for s in ("train", "val", "test") if s in tab]
        parts.append(README_TASK[task].format(total=sum(sum(v.values()) for v in tab.values())))
        parts.append("| label | " + " | ".join(splits) + " |\n|---|" + "---|" * len(splits) + "\n")
        for l in labels:
            parts.append(f"| {l} | " + " | ".join(str(tab[s].get(l, 0)) for s in splits) + " |\n")
        parts.append("| all | " + " | ".join(str(sum(tab[s].values())) for s in splits) + " |\n\n")
    parts.append(f"Seed of the last run: {seed}.\n")
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write("".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/kino-data/defaults"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--tasks", default="sounds,motion", help="comma-separated: sounds, motion (default both)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the per-label counts (0.05: a quick check)")
    a = ap.parse_args()
    tasks = [t.strip() for t in a.tasks.split(",") if t.strip()]
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        ap.error(f"unknown task(s) {bad}; choose from {TASKS}")
    os.nice(10)
    out = os.path.abspath(os.path.expanduser(a.out))
    os.makedirs(out, exist_ok=True)
    started = time.time()
    work, partial = [], {}
    if "sounds" in tasks:
        snd = load_sounds()
        per = per_label(snd.COUNTS, a.scale)
        partial["sounds"] = os.path.join(out, ".sounds.partial")
        work += [("sounds", partial["sounds"], (a.seed, split, label, i))
                 for split in per for label in snd.LABELS for i in range(per[split])]
    if "motion" in tasks:
        try:
            import PIL, skimage, sklearn  # noqa: F401
        except ImportError as e:
            ap.error(f"the motion task needs Pillow, scikit-image and scikit-learn ({e}); make the venv as in the "
                     f"docstring and run it with tools/.venv-data/bin/python")
        load_sources()                   # before the workers fork; they inherit the pictures
        per = per_label(MOTION_COUNTS, a.scale)
        partial["motion"] = os.path.join(out, ".motion.partial")
        work += [("motion", partial["motion"], (a.seed, split, label, i))
                 for split in per for label in MOTION_LABELS for i in range(per[split])]
    for p in partial.values():
        if os.path.exists(p):
            shutil.rmtree(p)
        os.makedirs(p)
    print(f"{len(work)} files to write under {out} with {a.jobs} processes", flush=True)
    rows = {t: [] for t in tasks}
    with mp.get_context("fork").Pool(max(1, a.jobs)) as pool:
        for k, r in enumerate(pool.imap_unordered(run_job, work, chunksize=4)):
            rows[r[0]].append(r[1:])
            if (k + 1) % 250 == 0:
                el = time.time() - started
                print(f"  {k + 1}/{len(work)} files, {el:.0f} s elapsed, ~{el / (k + 1) * (len(work) - k - 1):.0f} s left",
                      flush=True)
    for task in tasks:
        root = partial[task]
        (write_sound_tables if task == "sounds" else write_motion_tables)(root, rows[task])
        final = os.path.join(out, task)
        old = os.path.join(out, f".{task}.old")
        if os.path.exists(old):
            shutil.rmtree(old)
        if os.path.exists(final):
            os.rename(final, old)
        os.rename(root, final)
        if os.path.exists(old):
            shutil.rmtree(old)
        tab = counts_on_disk(final)
        for split in ("train", "val", "test"):
            if split in tab:
                print(f"{task}/{split}: {sum(tab[split].values())} files: "
                      + ", ".join(f"{l} {n}" for l, n in sorted(tab[split].items())))
    write_readme(out, a.seed)
    print(f"wrote {len(work)} files under {out} in {time.time() - started:.1f} s with {a.jobs} processes")


if __name__ == "__main__":
    sys.exit(main())
