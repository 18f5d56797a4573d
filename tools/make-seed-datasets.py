#!/usr/bin/env python3
"""Synthetic seed datasets for the parameter-efficient transfer study (PETL_AST reproduction, arXiv 2312.03694).

Two small, fully synthetic sound-classification tasks in Hugging Face `audiofolder` layout, so that an
Audio Spectrogram Transformer can be pretrained on one and adapted to the other without any download:

  <out>/keywords/{train,val,test}/<word>/*.wav   keyword spotting (Speech Commands-like), espeak-ng voices
  <out>/sounds/{train,val,test}/<class>/*.wav    procedural environmental sounds, numpy only
  <out>/{keywords,sounds}/manifest.csv           per-file generation parameters (ignored by audiofolder)
  <out>/{keywords,sounds}/SHA256SUMS             `cd <out>/keywords && sha256sum -c SHA256SUMS` checks a rerun
  <out>/README.md                                description with the actual counts

Every file: 16 kHz, mono, 16-bit PCM WAV, exactly 16000 samples (1.00 s).

Command that produced the data (run from the repository root):

    python3 tools/make-seed-datasets.py --out ~/.cache/kino-data --seed 0 --jobs 2

with Python 3.11.7, numpy 2.4.6 (also checked byte-identical with numpy 1.26.4 in tools/.venv),
espeak-ng 1.51 (Debian, espeak-ng-data voices, no MBROLA), SoX 14.4.2.

Determinism: every file has its own numpy Generator seeded with SeedSequence([seed, crc32("<task>/<split>/
<class>/<index>")]), so output does not depend on --jobs or scheduling; espeak-ng and sox are run with fixed
arguments and exchange raw float32 (no sox dither), and the final 16-bit quantisation is plain rounding in numpy.
Same seed + same tool versions => byte-identical WAV files (see SHA256SUMS). Splits use different seed keys.

Keywords: 12 words (yes no up down left right on off stop go zero one). Speakers are espeak-ng voice =
accent + variant (e.g. en-gb-scotland+m3). Variants are partitioned disjointly into train / val / test sets, and
two accents (en-029, en-gb-x-gbcwmd) appear only in test, so every test speaker is unseen and part of test also
has an unseen accent (the accent and variant are in each file name). Per file: espeak -s 120..220, -p 20..80, -a 40;
sox tempo x0.88..1.12, pitch +-150 cents, 30% sox reverb; silence trimmed and the word placed at a random offset
in the 1 s window; speech level -35..-12 dBFS (active RMS); additive white/pink/brown noise at 5..30 dB SNR.

Sounds: 10 classes synthesised in numpy with random parameters (dog_bark, siren, engine, rain, clock_tick,
bird_chirp, door_knock, wind, bell, water_drip), 25% synthetic room reverb (not rain/wind), level -32..-10 dBFS,
white/pink/brown background at 10..35 dB SNR.

Runs niced (os.nice(10)) with at most --jobs worker processes (default 2).
"""
import argparse
import csv
import hashlib
import io
import multiprocessing as mp
import os
import subprocess
import sys
import time
import wave
import zlib

import numpy as np

SR = 16000
N = SR  # 1.0 s

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "zero", "one"]
SOUNDS = ["dog_bark", "siren", "engine", "rain", "clock_tick", "bird_chirp", "door_knock", "wind", "bell",
          "water_drip"]
KEYWORD_COUNTS = {"train": 150, "val": 30, "test": 30}
SOUND_COUNTS = {"train": 60, "val": 20, "test": 20}

# espeak-ng 1.51 English voices that exist without MBROLA (the mb-* ones need mbrola, not installed).
TRAIN_ACCENTS = ["en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-us-nyc"]
TEST_ONLY_ACCENTS = ["en-029", "en-gb-x-gbcwmd"]
# Variants (voices/!v). "default" = the accent's own voice. Disjoint sets per split.
VARIANTS = {
    "train": ["default", "m1", "m2", "m3", "m4", "m5", "f1", "f2", "klatt", "klatt2", "Alex", "Alicia", "Annie",
              "adam", "anika", "aunty", "benjamin", "caleb", "david", "edward", "john", "linda", "max", "michel",
              "norbert", "paul", "quincy", "rob", "robert", "steph", "travis", "zac", "Lee", "Michael", "shelby",
              "iven"],
    "val": ["m6", "f3", "klatt3", "belinda", "Andy", "iven2", "Mario"],
    "test": ["m7", "m8", "f4", "f5", "klatt4", "steph2", "iven3", "grandpa", "gustave", "Diogo"],
}
ACCENTS = {"train": TRAIN_ACCENTS, "val": TRAIN_ACCENTS, "test": TRAIN_ACCENTS + TEST_ONLY_ACCENTS}


# ----------------------------------------------------------------------------------------------- utilities

def rng_for(seed, key):
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode())]))


def db(x):
    return 10.0 ** (x / 20.0)


def active_rms(x, frame=160, rel_db=-20.0):
    """RMS over 10 ms frames within rel_db of the loudest frame (level of the event, not of the gaps)."""
    n = len(x) // frame
    e = (x[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    keep = e >= e.max() * db(rel_db) ** 2
    return float(np.sqrt(e[keep].mean())) if keep.any() else 0.0


def spectral(x, response):
    """Zero-phase FFT-domain filter; response(f in Hz) -> gain. Zero-padded to avoid wrap-around."""
    n = len(x)
    m = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfftfreq(m, 1.0 / SR)
    return np.fft.irfft(np.fft.rfft(x, m) * response(f), m)[:n]


def colored_noise(rng, n, kind):
    w = rng.standard_normal(n)
    if kind == "white":
        y = w
    else:
        p = 0.5 if kind == "pink" else 1.0  # amplitude ~ f^-p: pink 1/f power, brown 1/f^2 power
        y = spectral(w, lambda f: np.maximum(f, 20.0) ** -p)
    y = y - y.mean()
    return y / (np.sqrt((y ** 2).mean()) + 1e-12)


def bandpass(fc, bw):
    return lambda f: np.exp(-0.5 * ((f - fc) / bw) ** 2)


def smooth_curve(rng, n, knots, lo, hi):
    """Slowly varying random curve in [lo, hi] (piecewise-linear through knots, then Hann-smoothed)."""
    xs = np.linspace(0, n - 1, knots)
    c = np.interp(np.arange(n), xs, rng.uniform(lo, hi, knots))
    k = np.hanning(max(3, n // (2 * knots)))
    pad = len(k)
    c = np.convolve(np.pad(c, pad, mode="edge"), k / k.sum(), mode="same")[pad:-pad]
    return c


def room(rng, x, rt60):
    """Simple synthetic room: exponentially decaying noise impulse response, mixed wet/dry."""
    L = int(rt60 * SR)
    t = np.arange(L) / SR
    ir = rng.standard_normal(L) * np.exp(-6.9 * t / rt60)
    ir = spectral(ir, lambda f: 1.0 / (1.0 + (f / rng.uniform(3000, 7000)) ** 2))
    ir[0] = 0.0
    ir /= np.sqrt((ir ** 2).sum()) + 1e-12
    m = 1 << int(np.ceil(np.log2(len(x) + L)))
    wet = np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(ir, m), m)[: len(x)]
    g = db(rng.uniform(-12, -3))
    return x + g * wet * (np.sqrt((x ** 2).sum()) / (np.sqrt((wet ** 2).sum()) + 1e-12))


def mix_and_quantise(rng, sig, level_dbfs, snr_db, noise_kind):
    sig = sig * (db(level_dbfs) / (active_rms(sig) + 1e-12))
    noise = colored_noise(rng, len(sig), noise_kind) * (db(level_dbfs) / db(snr_db))
    y = sig + noise
    peak = np.abs(y).max()
    if peak > 0.95:
        y *= 0.95 / peak
    return np.clip(np.round(y * 32767.0), -32767, 32767).astype("<i2")


def write_wav(path, pcm):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


# ------------------------------------------------------------------------------------------------ keywords

def trim_silence(x, sr, rel_db=-40.0):
    frame = sr // 100
    n = len(x) // frame
    e = (x[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    idx = np.nonzero(e >= e.max() * db(rel_db) ** 2)[0]
    a = max(0, (idx[0] - 1) * frame)
    b = min(len(x), (idx[-1] + 2) * frame)
    return x[a:b]


def keyword_file(job):
    seed, split, word, i = job
    rng = rng_for(seed, f"keywords/{split}/{word}/{i}")
    accent = str(rng.choice(ACCENTS[split]))
    variant = str(rng.choice(VARIANTS[split]))
    voice = accent if variant == "default" else f"{accent}+{variant}"
    speed = int(rng.integers(120, 221))
    pitch = int(rng.integers(20, 81))
    tempo = float(rng.uniform(0.88, 1.12))
    cents = float(rng.uniform(-150, 150))
    use_reverb = bool(rng.random() < 0.3)
    rev = (int(rng.integers(20, 71)), int(rng.integers(20, 81)), int(rng.integers(20, 101)),
           int(rng.integers(0, 21)), round(float(rng.uniform(-6, 0)), 1))
    level = float(rng.uniform(-35, -12))
    snr = float(rng.uniform(5, 30))
    noise_kind = str(rng.choice(["white", "pink", "brown"]))

    r = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", "40", "--stdout",
                        word], capture_output=True, check=True)
    with wave.open(io.BytesIO(r.stdout)) as w:
        esr = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    espeak_clipped = int(np.sum(np.abs(raw.astype(np.int32)) >= 32767))
    x = trim_silence(raw.astype(np.float32) / 32768.0, esr)
    dur = len(x) / esr
    tempo = max(tempo, dur / 0.9)  # the word (before reverb tail) must fit into 0.9 s
    effects = ["tempo", "-s", f"{tempo:.4f}", "pitch", f"{cents:.1f}", "rate", "-v", str(SR)]
    if use_reverb:
        effects += ["reverb", *[str(v) for v in rev[:3]], "0", str(rev[3]), str(rev[4])]
    effects += ["channels", "1"]
    raw_f32 = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"]
    r = subprocess.run(["sox", "-V1", *raw_f32, "-r", str(esr), "-", *raw_f32, "-r", str(SR), "-", *effects],
                       input=x.astype("<f4").tobytes(), capture_output=True, check=True)
    y = np.frombuffer(r.stdout, dtype="<f4").astype(np.float64)
    speech_len = min(int(round(dur / tempo * SR)), len(y), N)
    offset = int(rng.integers(0, N - speech_len + 1))
    sig = np.zeros(N)
    seg = y[: N - offset]
    sig[offset: offset + len(seg)] = seg
    pcm = mix_and_quantise(rng, sig, level, snr, noise_kind)
    name = f"{accent}__{variant}__{i:04d}.wav"
    rel = f"{split}/{word}/{name}"
    return rel, dict(split=split, label=word, accent=accent, variant=variant, speed=speed, pitch=pitch,
                     tempo=round(tempo, 4), cents=round(cents, 1), reverb=" ".join(map(str, rev)) if use_reverb
                     else "", level_dbfs=round(level, 2), snr_db=round(snr, 2), noise=noise_kind, offset=offset,
                     espeak_clipped=espeak_clipped), pcm


# -------------------------------------------------------------------------------------------------- sounds

T = np.arange(N) / SR


def env_ad(n, attack, decay):
    t = np.arange(n) / SR
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-np.maximum(0.0, t - attack) / decay)


def place(out, x, start):
    start = int(start)
    if start >= len(out):
        return
    m = min(len(x), len(out) - start)
    out[start: start + m] += x[:m]


def harmonic(phase, f0, kmax_hz=7000.0, rolloff=1.0, gains=None):
    y = np.zeros_like(phase)
    fmax = float(np.max(f0))
    for k in range(1, int(kmax_hz / fmax) + 1):
        g = k ** -rolloff * (1.0 if gains is None else gains[(k - 1) % len(gains)])
        y += g * np.sin(k * phase)
    return y


def s_dog_bark(rng):
    out = np.zeros(N)
    t0 = rng.uniform(0.0, 0.25)
    formants = [(rng.uniform(550, 1100), rng.uniform(150, 350), 1.0),
                (rng.uniform(1400, 2300), rng.uniform(200, 450), rng.uniform(0.4, 0.8)),
                (rng.uniform(2600, 3600), rng.uniform(250, 500), rng.uniform(0.15, 0.4))]
    resp = lambda f: 0.03 + sum(a * np.exp(-0.5 * ((f - fc) / bw) ** 2) for fc, bw, a in formants)
    f0base = rng.uniform(300, 800)
    for _ in range(int(rng.integers(1, 4))):
        d = rng.uniform(0.08, 0.22)
        n = int(d * SR)
        u = np.linspace(0, 1, n)
        f0 = f0base * rng.uniform(0.9, 1.1) * (1 + 0.25 * np.sin(np.pi * np.minimum(u * 2.5, 1)) - 0.35 * u)
        ph = 2 * np.pi * np.cumsum(f0) / SR
        src = harmonic(ph, f0, rolloff=0.8) + rng.uniform(0.2, 0.8) * rng.standard_normal(n)
        e = np.minimum(1, u * d / 0.008) * (1 - u) ** rng.uniform(1.0, 2.5)
        place(out, spectral(src * e, resp), t0 * SR)
        t0 += d + rng.uniform(0.06, 0.2)
    return out


def s_siren(rng):
    kind = rng.choice(["wail", "yelp", "hilo"])
    ph0 = rng.uniform(0, 2 * np.pi)
    if kind == "wail":
        lo, hi, r = rng.uniform(500, 900), rng.uniform(1200, 1800), rng.uniform(0.5, 1.5)
        f = lo + (hi - lo) * (0.5 - 0.5 * np.cos(2 * np.pi * r * T + ph0))
    elif kind == "yelp":
        lo, hi, r = rng.uniform(600, 900), rng.uniform(1300, 1800), rng.uniform(3, 8)
        saw = ((r * T + ph0 / (2 * np.pi)) % 1.0) ** rng.uniform(0.5, 1.0)
        f = lo + (hi - lo) * saw
    else:
        a, b, r = rng.uniform(450, 650), rng.uniform(700, 1000), rng.uniform(1.5, 3.5)
        sq = (np.sin(2 * np.pi * r * T + ph0) > 0).astype(float)
        f = spectral(a + (b - a) * sq, lambda fr: np.exp(-0.5 * (fr / 60.0) ** 2))
    f = f * (1 + 0.003 * np.sin(2 * np.pi * rng.uniform(4, 7) * T))
    ph = 2 * np.pi * np.cumsum(f) / SR
    y = harmonic(ph, f, kmax_hz=6000, rolloff=rng.uniform(0.8, 1.6))
    return y * (0.5 + 0.5 * np.minimum(1.0, T / rng.uniform(0.01, 0.3)))


def s_engine(rng):
    f0 = rng.uniform(20, 90)
    drift = 1 + rng.uniform(-0.25, 0.25) * T + 0.02 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * T)
    f = f0 * drift
    ph = 2 * np.pi * np.cumsum(f) / SR
    gains = np.exp(rng.normal(0, 0.5, 12))
    y = harmonic(ph, f, kmax_hz=3500, rolloff=rng.uniform(0.6, 1.3), gains=gains)
    am = 1 + rng.uniform(0.2, 0.7) * np.sin(ph / 2 + rng.uniform(0, 2 * np.pi))
    y = y * am
    y = spectral(y, lambda fr: 1.0 / (1.0 + (fr / rng.uniform(600, 2500)) ** 2))
    rumble = colored_noise(rng, N, "brown")
    return y / (np.std(y) + 1e-12) + rng.uniform(0.1, 0.5) * rumble


def s_rain(rng):
    rate = rng.uniform(300, 3000)
    imp = np.zeros(N)
    k = rng.poisson(rate)
    pos = rng.integers(0, N, k)
    np.add.at(imp, pos, rng.lognormal(0, 0.8, k) * rng.choice([-1.0, 1.0], k))
    fc, bw = rng.uniform(2000, 6000), rng.uniform(1000, 3000)
    crackle = spectral(imp, lambda f: np.exp(-0.5 * ((f - fc) / bw) ** 2))
    bed = spectral(colored_noise(rng, N, "pink"), lambda f: 1.0 / (1.0 + (rng.uniform(300, 900) / (f + 1)) ** 4))
    y = crackle / (np.std(crackle) + 1e-12) + rng.uniform(0.3, 1.2) * bed / (np.std(bed) + 1e-12)
    # a few heavier drops
    for _ in range(int(rng.integers(0, 6))):
        n = int(0.03 * SR)
        fd = rng.uniform(300, 1200)
        place(y, rng.uniform(1, 3) * np.sin(2 * np.pi * fd * np.arange(n) / SR) * env_ad(n, 0.001, 0.008),
              rng.integers(0, N - n))
    return y * smooth_curve(rng, N, 4, 0.7, 1.0)


def s_clock_tick(rng):
    out = np.zeros(N)
    period = rng.uniform(0.18, 0.5)
    t = rng.uniform(0, period)
    f_ring = rng.uniform(1200, 4500)
    tau = rng.uniform(0.003, 0.012)
    tock_ratio = rng.uniform(0.8, 0.97)
    fc = rng.uniform(2500, 6000)
    j = 0
    while t < 1.0:
        n = int(0.04 * SR)
        u = np.arange(n) / SR
        fr = f_ring * (tock_ratio if j % 2 else 1.0)
        click = np.zeros(n)
        for c in range(int(rng.integers(1, 4))):  # escapement: 1-3 clicks within ~10 ms
            dt = int(rng.uniform(0, 0.01) * SR) if c else 0
            burst = rng.standard_normal(n) * np.exp(-u / rng.uniform(0.0005, 0.002))
            ring = np.sin(2 * np.pi * fr * u) * np.exp(-u / tau)
            part = rng.uniform(0.4, 1.0) * (spectral(burst, bandpass(fc, 2000)) + rng.uniform(0.3, 1.0) * ring)
            click[dt:] += part[: n - dt]
        place(out, click * (rng.uniform(0.7, 1.0) if j % 2 else 1.0), t * SR)
        t += period * rng.uniform(0.99, 1.01)
        j += 1
    return out


def s_bird_chirp(rng):
    out = np.zeros(N)
    t = rng.uniform(0.0, 0.2)
    shape = rng.choice(["up", "down", "arch"])
    fstart = rng.uniform(2000, 6000)
    span = rng.uniform(500, 2500)
    vib = rng.random() < 0.4
    for _ in range(int(rng.integers(2, 8))):
        d = rng.uniform(0.03, 0.15)
        n = int(d * SR)
        u = np.linspace(0, 1, n)
        s = {"up": u, "down": 1 - u, "arch": np.sin(np.pi * u)}[shape]
        f = fstart * rng.uniform(0.93, 1.07) + span * s * rng.uniform(0.8, 1.2)
        if vib:
            f = f + rng.uniform(100, 400) * np.sin(2 * np.pi * rng.uniform(20, 60) * u * d)
        f = np.minimum(f, 7500)
        ph = 2 * np.pi * np.cumsum(f) / SR
        y = np.sin(ph) + 0.1 * np.sin(2 * ph) * (f.max() < 3700)
        place(out, y * np.sin(np.pi * u) ** 2 * rng.uniform(0.5, 1.0), t * SR)
        t += d + rng.uniform(0.02, 0.12)
        if t > 0.95:
            break
    return out


def s_door_knock(rng):
    out = np.zeros(N)
    modes = [(rng.uniform(80, 250), rng.uniform(0.02, 0.06), 1.0),
             (rng.uniform(300, 700), rng.uniform(0.01, 0.03), rng.uniform(0.3, 0.8)),
             (rng.uniform(900, 2000), rng.uniform(0.003, 0.01), rng.uniform(0.1, 0.5))]
    t = rng.uniform(0.0, 0.3)
    interval = rng.uniform(0.1, 0.25)
    for _ in range(int(rng.integers(2, 6))):
        n = int(0.2 * SR)
        u = np.arange(n) / SR
        y = sum(a * np.sin(2 * np.pi * f * rng.uniform(0.97, 1.03) * u) * np.exp(-u / tau) for f, tau, a in modes)
        hit = spectral(rng.standard_normal(n) * np.exp(-u / 0.0015), lambda f: 1 / (1 + (f / 3000.0) ** 2))
        place(out, (y + rng.uniform(0.3, 1.0) * hit) * rng.uniform(0.6, 1.0), t * SR)
        t += interval * rng.uniform(0.85, 1.15)
        if t > 0.9:
            break
    return out


def s_wind(rng):
    bands = np.geomspace(150, 2500, 7)
    fc = np.exp(smooth_curve(rng, N, int(rng.integers(3, 7)), np.log(200), np.log(1500)))
    y = np.zeros(N)
    for b in bands:
        nb = spectral(rng.standard_normal(N), bandpass(b, b * 0.35))
        y += np.exp(-(np.log(b / fc) ** 2) / (2 * 0.45 ** 2)) * nb / (np.std(nb) + 1e-12)
    gust = smooth_curve(rng, N, int(rng.integers(3, 8)), 0.2, 1.0)
    y = y * gust
    if rng.random() < 0.35:  # whistle
        wf = rng.uniform(500, 1500)
        w = spectral(rng.standard_normal(N), bandpass(wf, 25))
        y += rng.uniform(0.2, 0.6) * gust ** 2 * w / (np.std(w) + 1e-12)
    return y


def s_bell(rng):
    f0 = rng.uniform(300, 1300)
    ratios = [0.5, 1.0, 1.19, 1.5, 2.0, 2.5, 2.67, 3.0, 4.0, 5.33]
    t0 = rng.uniform(0.0, 0.3)
    n = N - int(t0 * SR)
    u = np.arange(n) / SR
    tau = rng.uniform(0.3, 1.5)
    y = np.zeros(n)
    for k, r in enumerate(ratios):
        f = f0 * r * rng.uniform(0.985, 1.015)
        if f > 7500:
            continue
        y += rng.uniform(0.3, 1.0) / (1 + 0.3 * k) * np.sin(2 * np.pi * f * u + rng.uniform(0, 2 * np.pi)) \
            * np.exp(-u / (tau / (1 + 0.4 * k)))
    y += 0.3 * spectral(rng.standard_normal(n) * np.exp(-u / 0.003), bandpass(3000, 2000))
    out = np.zeros(N)
    place(out, y * np.minimum(1.0, u / 0.001), t0 * SR)
    return out


def s_water_drip(rng):
    out = np.zeros(N)
    for _ in range(int(rng.integers(1, 5))):
        n = int(0.12 * SR)
        u = np.arange(n) / SR
        fa = rng.uniform(500, 1300)
        fb = fa * rng.uniform(1.5, 3.0)
        rise = rng.uniform(0.01, 0.04)
        f = fa + (fb - fa) * (1 - np.exp(-u / (rise / 3)))
        y = np.sin(2 * np.pi * np.cumsum(f) / SR) * env_ad(n, 0.001, rng.uniform(0.015, 0.05))
        place(out, y * rng.uniform(0.5, 1.0), rng.uniform(0.0, 0.85) * SR)
    return out


SYNTH = {name: globals()["s_" + name] for name in SOUNDS}


def sound_file(job):
    seed, split, cls, i = job
    rng = rng_for(seed, f"sounds/{split}/{cls}/{i}")
    sig = SYNTH[cls](rng)
    rt60 = 0.0
    if cls not in ("rain", "wind") and rng.random() < 0.25:
        rt60 = float(rng.uniform(0.15, 0.7))
        sig = room(rng, sig, rt60)
    level = float(rng.uniform(-32, -10))
    snr = float(rng.uniform(10, 35))
    noise_kind = str(rng.choice(["white", "pink", "brown"]))
    pcm = mix_and_quantise(rng, sig, level, snr, noise_kind)
    rel = f"{split}/{cls}/{cls}_{i:04d}.wav"
    return rel, dict(split=split, label=cls, rt60=round(rt60, 3), level_dbfs=round(level, 2), snr_db=round(snr, 2),
                     noise=noise_kind), pcm


# ------------------------------------------------------------------------------------------------- driver

def run_job(args):
    fn, root, job = args
    rel, meta, pcm = (keyword_file if fn == "keywords" else sound_file)(job)
    path = os.path.join(root, rel)
    write_wav(path, pcm)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    x = pcm.astype(np.float64) / 32768.0
    meta.update(file=rel, rms_dbfs=round(20 * np.log10(np.sqrt((x ** 2).mean()) + 1e-12), 2),
                peak=round(float(np.abs(x).max()), 4))
    return fn, rel, meta, digest


def write_tables(root, rows):
    rows.sort(key=lambda r: r[1])
    keys = ["file"] + [k for k in rows[0][2] if k != "file"]
    with open(os.path.join(root, "manifest.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, lineterminator="\n")
        w.writeheader()
        for _, _, meta, _ in rows:
            w.writerow(meta)
    with open(os.path.join(root, "SHA256SUMS"), "w") as fh:
        for _, rel, _, d in rows:
            fh.write(f"{d}  {rel}\n")


README = """\
# Kino synthetic seed datasets (seed {seed})

Generated by `tools/make-seed-datasets.py --seed {seed}` (espeak-ng 1.51, SoX 14.4.2, numpy); no downloads.
Hugging Face `audiofolder` layout, `<task>/<split>/<class>/*.wav`, every file 16 kHz mono 16-bit PCM, exactly
1.00 s (16000 samples). Same seed and tool versions give byte-identical files (`sha256sum -c SHA256SUMS`).

**keywords** ({kw_total} files; per class {kw_split}): a Speech Commands-style keyword-spotting task with 12
words ({words}), spoken by espeak-ng English voices (accent + voice variant, e.g. `en-gb-scotland+m3`) at random
speed (espeak -s 120-220) and pitch (-p 20-80), then SoX tempo (x0.88-1.12) and pitch (+-150 cents) jitter,
SoX reverb on 30% of files, placement at a random offset in the 1 s window, random level (-35 to -12 dBFS) and
white/pink/brown noise at 5-30 dB SNR. Speakers are disjoint across splits: voice variants are partitioned
(train: {v_train} variants; val: {v_val}; test: {v_test}), and the accents {test_accents} occur only in
`test` ({unseen_accent} of the {kw_test} test files), so test measures generalisation to unseen voices and,
in part, unseen accents (accent and variant are in each file name: `<accent>__<variant>__<index>.wav`). Train/val accents: {train_accents}.

**sounds** ({snd_total} files; per class {snd_split}): a non-speech environmental-sound task with 10
procedurally synthesised classes ({sounds}): formant-filtered harmonic bursts (dog bark), wail/yelp/hi-lo
sweeps (siren), low harmonic series with amplitude modulation and rumble (engine), filtered random impulses over
a noise bed (rain), periodic escapement clicks (clock tick), fast FM sweeps (bird chirp), damped low modes
(door knock), slowly modulated band noise with gusts (wind), inharmonic decaying partials (bell) and rising
decaying tones (water drip). Every parameter is randomised per file; 25% of non-rain/wind files get a synthetic
room reverb; random level (-32 to -10 dBFS) and white/pink/brown background at 10-35 dB SNR. Splits differ only
by random seed (no speaker notion).

`manifest.csv` in each task folder lists the generation parameters of every file.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/kino-data"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (at most 2)")
    ap.add_argument("--only", choices=["keywords", "sounds"], help="generate one task only")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply per-class counts (quick tests)")
    a = ap.parse_args()
    os.nice(10)
    jobs = max(1, min(2, a.jobs))
    out = os.path.abspath(os.path.expanduser(a.out))
    work = []
    counts = {}
    for task, classes, per in (("keywords", WORDS, KEYWORD_COUNTS), ("sounds", SOUNDS, SOUND_COUNTS)):
        if a.only and a.only != task:
            continue
        root = os.path.join(out, task)
        if os.path.isdir(root):
            subprocess.run(["rm", "-rf", "--", root], check=True)  # stale files from other seeds/versions
        counts[task] = {s: max(1, int(round(n * a.scale))) for s, n in per.items()}
        for split, n in counts[task].items():
            for c in classes:
                for i in range(n):
                    work.append((task, root, (a.seed, split, c, i)))
    t0 = time.time()
    rows = {"keywords": [], "sounds": []}
    with mp.get_context("fork").Pool(jobs) as pool:
        for k, r in enumerate(pool.imap_unordered(run_job, work, chunksize=8)):
            rows[r[0]].append(r)
            if (k + 1) % 500 == 0:
                print(f"  {k + 1}/{len(work)} files, {time.time() - t0:.0f} s", flush=True)
    for task in counts:
        write_tables(os.path.join(out, task), rows[task])
        tab = {}
        for _, _, m, _ in rows[task]:
            tab.setdefault(m["split"], {}).setdefault(m["label"], 0)
            tab[m["split"]][m["label"]] += 1
        for split in counts[task]:
            print(f"{task}/{split}: {sum(tab[split].values())} files, {len(tab[split])} classes, "
                  f"per class {sorted(set(tab[split].values()))}")
    if set(counts) == {"keywords", "sounds"}:
        fmt = lambda c: ", ".join(f"{s} {n}" for s, n in c.items())
        with open(os.path.join(out, "README.md"), "w") as fh:
            fh.write(README.format(
                seed=a.seed, kw_total=len(rows["keywords"]), kw_split=fmt(counts["keywords"]),
                words=", ".join(WORDS), v_train=len(VARIANTS["train"]), v_val=" ".join(VARIANTS["val"]),
                v_test=" ".join(VARIANTS["test"]), test_accents=" and ".join(TEST_ONLY_ACCENTS),
                train_accents=", ".join(TRAIN_ACCENTS), kw_test=sum(r[2]["split"] == "test" for r in rows["keywords"]),
                unseen_accent=sum(r[2]["accent"] in TEST_ONLY_ACCENTS for r in rows["keywords"]),
                snd_total=len(rows["sounds"]),
                snd_split=fmt(counts["sounds"]), sounds=", ".join(SOUNDS)))
    print(f"wrote {len(work)} files under {out} in {time.time() - t0:.1f} s with {jobs} processes")


if __name__ == "__main__":
    sys.exit(main())
