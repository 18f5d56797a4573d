#!/usr/bin/env python3
"""Synthetic training data for Kino's shipped sound classifier (models/kino-sounds).

Eight labels, exactly: speech, music, silence, noise, siren, alarm, bell, knock. Hugging Face audiofolder
layout, 16 kHz mono 16-bit PCM WAV, exactly 2.00 s (32000 samples) per file:

  <out>/sounds/{train,val,test}/<label>/*.wav
  <out>/sounds/manifest.csv     per-file generation parameters
  <out>/sounds/SHA256SUMS       `cd <out>/sounds && sha256sum -c SHA256SUMS` checks a rerun

Command (from the repository root):

    python3 tools/make-default-sounds.py --out ~/.cache/kino-data/defaults --seed 0 --jobs 2

with Python 3.11.7, numpy 2.4.6, espeak-ng 1.51 (Debian, espeak-ng-data, no MBROLA), SoX 14.4.2, FFmpeg 5.1
(libmp3lame, libopus). Determinism as tools/make-seed-datasets.py (whose helpers this imports): every file has its
own numpy Generator from SeedSequence([seed, crc32("<split>/<label>/<index>")]); the tools run with fixed arguments;
same seed and versions give byte-identical files.

Per label (parameters drawn per file):
- speech: espeak-ng sentences (English, German, French, Spanish, Italian, Portuguese, Dutch, Polish, Russian, Hindi,
  Swedish, Turkish texts), voice variants, speed 110-230 wpm, pitch 20-80, SoX tempo 0.9-1.1 and pitch +-200 cents;
  speech fills the window (cut when longer).
- music: additive/FM/plucked (Karplus-Strong)/organ timbres playing chords, melodies on major, minor, pentatonic
  and dorian scales, arpeggios and bass lines at 60-180 bpm, with or without a synthesised drum pattern
  (kick, snare, hi-hat); or drums alone.
- silence: digital zero, or hiss/room tone at -90..-55 dBFS, sometimes a faint 50/60 Hz hum. Never loud.
- noise: white, pink or brown noise, fan-like band noise, hum with harmonics plus noise, crackle, rumble: steady.
- siren: wail, yelp, hi-lo (2 s, slow Doppler-like drift).
- alarm: beeping: sine or square beeps at 1-4 kHz with on/off patterns (alarm clock, reversing beeper, smoke
  detector chirps, microwave), duty cycles 0.2-0.7.
- bell: struck inharmonic bells (church-bell partials), FM bells, chimes of 2-5 struck tones, ding-dong doorbells,
  telephone rings (two-tone trills), bicycle-bell trills.
- knock: door/table knocks (damped resonant bursts), taps, hand claps (filtered noise bursts with reflections),
  clicks (pen, mouse, keyboard-like), in rhythmic groups.
Every file except silence: level -35..-8 dBFS (active RMS), 30 % synthetic room reverb, background noise at 5..35 dB
SNR on half of them (speech, music, siren, alarm, bell, knock), and 20 % pass through an MP3 or Opus round trip at
32-96 kbit/s.

Held out: the test split has its own seed keys and, for speech, voices (variants and two languages) no train or
validation file uses; melodies in the test split use the harmonic-minor and whole-tone scales only seen there;
alarms at 4-5 kHz and sirens with faster sweeps appear only in test. Counts per label: train 400, val 50, test 100
(times --scale).
"""
import argparse
import csv
import hashlib
import importlib.util
import io
import multiprocessing as mp
import os
import subprocess
import sys
import time
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("seed", os.path.join(HERE, "make-seed-datasets.py"))
seed_tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seed_tools)
SR = 16000
N = 2 * SR
# The seed script's synthesisers read the clip length from these module globals.
seed_tools.N = N
seed_tools.T = np.arange(N) / SR
T = seed_tools.T
rng_for, db, spectral, colored_noise, bandpass, room, place, env_ad, harmonic, active_rms = (
    seed_tools.rng_for, seed_tools.db, seed_tools.spectral, seed_tools.colored_noise, seed_tools.bandpass,
    seed_tools.room, seed_tools.place, seed_tools.env_ad, seed_tools.harmonic, seed_tools.active_rms)

LABELS = ["speech", "music", "silence", "noise", "siren", "alarm", "bell", "knock"]
COUNTS = {"train": 400, "val": 50, "test": 100}

SENTENCES = {
    "en": ["the quick brown fox jumps over the lazy dog", "please call me back when you get this message",
           "we will meet at the station at half past nine", "turn left at the second traffic light",
           "the weather is going to be cold and windy tomorrow", "i think we should order some more paper",
           "can you hear me clearly now", "this is the last train to the city centre tonight",
           "the meeting has been moved to thursday afternoon", "she bought three apples and a loaf of bread"],
    "de": ["guten morgen wie geht es ihnen heute", "der zug nach berlin hat zehn minuten verspätung",
           "wir treffen uns um acht uhr am bahnhof", "das wetter wird morgen sonnig und warm"],
    "fr": ["bonjour comment allez vous aujourd'hui", "le train pour paris part dans dix minutes",
           "nous avons rendez vous devant la gare", "il fait très beau ce matin"],
    "es": ["buenos días cómo estás hoy", "el autobús llega a las nueve y media",
           "mañana va a llover por la tarde", "me gustaría un café con leche por favor"],
    "it": ["buongiorno come stai oggi", "il treno per roma è in ritardo", "ci vediamo domani alla stazione"],
    "pt": ["bom dia como você está", "o ônibus chega às nove horas", "amanhã vai fazer sol"],
    "nl": ["goedemorgen hoe gaat het met je", "de trein naar amsterdam vertrekt om negen uur"],
    "pl": ["dzień dobry jak się masz", "pociąg do warszawy ma opóźnienie"],
    "ru": ["доброе утро как ваши дела", "поезд прибывает в девять часов"],
    "hi": ["नमस्ते आप कैसे हैं", "आज मौसम बहुत अच्छा है"],
    "sv": ["god morgon hur mår du", "tåget till stockholm är försenat"],
    "tr": ["günaydın nasılsınız", "tren saat dokuzda kalkıyor"],
}
VOICE_LANG = {"en": ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc"], "de": ["de"], "fr": ["fr-fr", "fr-be"],
              "es": ["es", "es-419"], "it": ["it"], "pt": ["pt", "pt-br"], "nl": ["nl"], "pl": ["pl"], "ru": ["ru"],
              "hi": ["hi"], "sv": ["sv"], "tr": ["tr"]}
SPEECH_LANGS = {"train": ["en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "hi"],
                "val": ["en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "hi"],
                "test": ["en", "de", "fr", "es", "sv", "tr"]}
SPEECH_VARIANTS = {"train": seed_tools.VARIANTS["train"], "val": seed_tools.VARIANTS["val"], "test": seed_tools.VARIANTS["test"]}
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10], "pentatonic": [0, 2, 4, 7, 9],
          "dorian": [0, 2, 3, 5, 7, 9, 10], "harmonic-minor": [0, 2, 3, 5, 7, 8, 11], "whole-tone": [0, 2, 4, 6, 8, 10]}
TRAIN_SCALES, TEST_SCALES = ["major", "minor", "pentatonic", "dorian"], ["harmonic-minor", "whole-tone", "major"]


# ------------------------------------------------------------------------------------------------ speech

def speech(rng, split):
    lang = str(rng.choice(SPEECH_LANGS[split]))
    accent = str(rng.choice(VOICE_LANG[lang]))
    variant = str(rng.choice(SPEECH_VARIANTS[split]))
    voice = accent if variant == "default" else f"{accent}+{variant}"
    words = " ".join(str(rng.choice(SENTENCES[lang])) for _ in range(2))
    speed, pitch = int(rng.integers(110, 231)), int(rng.integers(20, 81))
    r = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", "60", "--stdout", words],
                       capture_output=True, check=True)
    with wave.open(io.BytesIO(r.stdout)) as w:
        esr = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    x = seed_tools.trim_silence(raw.astype(np.float32) / 32768.0, esr)
    tempo, cents = float(rng.uniform(0.9, 1.1)), float(rng.uniform(-200, 200))
    f32 = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"]
    r = subprocess.run(["sox", "-V1", *f32, "-r", str(esr), "-", *f32, "-r", str(SR), "-", "tempo", "-s", f"{tempo:.4f}",
                        "pitch", f"{cents:.1f}", "rate", "-v", str(SR)], input=x.astype("<f4").tobytes(),
                       capture_output=True, check=True)
    y = np.frombuffer(r.stdout, dtype="<f4").astype(np.float64)
    out = np.zeros(N)
    if len(y) >= N:
        start = int(rng.integers(0, len(y) - N + 1))
        out[:] = y[start:start + N]
    else:
        offset = int(rng.integers(0, min(N - len(y), SR // 4) + 1))
        out[offset:offset + len(y)] = y
    return out, dict(voice=voice, lang=lang, speed=speed, pitch=pitch, tempo=round(tempo, 3), cents=round(cents, 1))


# ------------------------------------------------------------------------------------------------- music

def tone(rng, f, n, timbre):
    u = np.arange(n) / SR
    if timbre == "pluck":                       # Karplus-Strong
        period = max(2, int(round(SR / f)))
        buf = rng.uniform(-1, 1, period)
        y = np.empty(n)
        for i in range(n):
            y[i] = buf[i % period]
            buf[i % period] = 0.5 * (buf[i % period] + buf[(i + 1) % period]) * 0.996
        return y
    if timbre == "fm":
        ratio, index = rng.choice([1.0, 2.0, 3.5]), rng.uniform(1, 4)
        return np.sin(2 * np.pi * f * u + index * np.exp(-u * 3) * np.sin(2 * np.pi * f * ratio * u)) * np.exp(-u * 2.5)
    if timbre == "organ":
        return sum(g * np.sin(2 * np.pi * f * k * u) for k, g in [(1, 1), (2, 0.5), (3, 0.3), (4, 0.2)] if f * k < 7000) \
            * np.minimum(1, u / 0.02)
    gains = rng.uniform(0.2, 1.0, 8)            # additive
    return sum(gains[k - 1] / k * np.sin(2 * np.pi * f * k * u) for k in range(1, 9) if f * k < 7000) * np.exp(-u * rng.uniform(0.5, 3))


def drums(rng, beat, out):
    pattern = int(rng.integers(0, 3))
    t, step = 0.0, beat / 2
    k = 0
    while t < N / SR:
        n = int(0.25 * SR)
        u = np.arange(n) / SR
        if k % 4 == 0 or (pattern == 1 and k % 4 == 3):
            place(out, np.sin(2 * np.pi * (50 + 100 * np.exp(-u * 30)) * u) * np.exp(-u * 12), t * SR)      # kick
        if k % 4 == 2:
            place(out, 0.6 * spectral(rng.standard_normal(n), bandpass(1800, 900)) * np.exp(-u * 25), t * SR)  # snare
        if pattern != 2 or k % 2 == 0:
            m = int(0.05 * SR)
            place(out, 0.25 * spectral(rng.standard_normal(m), lambda f: (f > 6000).astype(float)) * np.exp(-np.arange(m) / SR * 90), t * SR)
        t += step
        k += 1


def music(rng, split):
    scale_name = str(rng.choice(TEST_SCALES if split == "test" else TRAIN_SCALES))
    scale = SCALES[scale_name]
    root = 110 * 2 ** (rng.integers(0, 12) / 12)
    bpm = float(rng.uniform(60, 180))
    beat = 60 / bpm
    timbre = str(rng.choice(["additive", "fm", "pluck", "organ"]))
    form = str(rng.choice(["melody", "chords", "arpeggio", "melody+bass", "drums"]))
    out = np.zeros(N)

    def note(degree, octave=1):
        semis = scale[degree % len(scale)] + 12 * (degree // len(scale) + octave)
        return root * 2 ** (semis / 12)
    t = rng.uniform(0, 0.2)
    while form != "drums" and t < N / SR:
        dur = beat * float(rng.choice([0.5, 1, 1, 2]))
        n = int(min(dur * 1.3, 1.0) * SR)
        if form == "chords":
            d = int(rng.integers(0, len(scale)))
            for off in ([0, 2, 4] if rng.random() < 0.7 else [0, 2, 4, 6]):
                place(out, 0.5 * tone(rng, note(d + off), n, timbre), t * SR)
        elif form == "arpeggio":
            d = int(rng.integers(0, len(scale)))
            for j, off in enumerate([0, 2, 4, 7]):
                place(out, tone(rng, note(d + off), int(beat * 0.5 * SR), timbre), (t + j * beat / 4) * SR)
        else:
            place(out, tone(rng, note(int(rng.integers(0, 2 * len(scale))), 2), n, timbre), t * SR)
            if form == "melody+bass" and rng.random() < 0.5:
                place(out, 0.7 * tone(rng, note(int(rng.integers(0, len(scale))), 0), n, "additive"), t * SR)
        t += dur
    if form == "drums" or rng.random() < 0.4:
        d = np.zeros(N)
        drums(rng, beat, d)
        out = out + d * (0.6 if form != "drums" else 1.0)
    return out, dict(scale=scale_name, bpm=round(bpm, 1), timbre=timbre, form=form)


# -------------------------------------------------------------------------------------- the other labels

def silence(rng, split):
    kind = str(rng.choice(["zero", "hiss", "room", "hum"]))
    if kind == "zero":
        return np.zeros(N), dict(kind=kind, level_dbfs=-200)
    level = float(rng.uniform(-90, -55))
    y = colored_noise(rng, N, "white" if kind == "hiss" else "brown")
    if kind == "hum":
        y = 0.5 * y + np.sin(2 * np.pi * float(rng.choice([50, 60])) * T)
    return y * db(level) / (np.sqrt((y ** 2).mean()) + 1e-12), dict(kind=kind, level_dbfs=round(level, 1))


def noise(rng, split):
    kind = str(rng.choice(["white", "pink", "brown", "fan", "hum", "crackle", "rumble"]))
    if kind in ("white", "pink", "brown"):
        y = colored_noise(rng, N, kind)
    elif kind == "fan":
        fc = rng.uniform(200, 1500)
        y = spectral(rng.standard_normal(N), bandpass(fc, fc * 0.6)) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(5, 30) * T))
    elif kind == "hum":
        f = float(rng.choice([50, 60, 100, 120]))
        y = sum(np.sin(2 * np.pi * f * k * T) / k for k in range(1, 8)) + 0.5 * colored_noise(rng, N, "pink")
    elif kind == "crackle":
        y = 0.3 * colored_noise(rng, N, "pink")
        idx = rng.integers(0, N, int(rng.integers(200, 1500)))
        y[idx] += rng.uniform(-3, 3, len(idx))
    else:
        y = spectral(rng.standard_normal(N), lambda f: 1 / (1 + (f / rng.uniform(60, 200)) ** 4))
    return y, dict(kind=kind)


def siren(rng, split):
    y = seed_tools.s_siren(rng)
    if split == "test" and rng.random() < 0.5:   # faster sweeps only in test
        y = y[np.minimum(N - 1, (np.arange(N) * 1.25).astype(int))]
    return y * (1 + 0.2 * np.linspace(-1, 1, N) * rng.uniform(-1, 1)), dict()


def alarm(rng, split):
    f = float(rng.uniform(4000, 5000) if split == "test" and rng.random() < 0.4 else rng.uniform(1000, 4000))
    kind = str(rng.choice(["clock", "reverse", "chirp", "microwave", "double"]))
    period = {"clock": rng.uniform(0.2, 0.5), "reverse": rng.uniform(0.8, 1.2), "chirp": rng.uniform(0.6, 1.0),
              "microwave": rng.uniform(0.9, 1.1), "double": rng.uniform(0.4, 0.7)}[kind]
    duty = float(rng.uniform(0.2, 0.7)) if kind != "chirp" else 0.08
    phase = (T / period + rng.uniform(0, 1)) % 1
    gate = (phase < duty).astype(float)
    if kind == "double":
        gate = ((phase < duty * 0.4) | ((phase > duty * 0.6) & (phase < duty))).astype(float)
    gate = np.convolve(gate, np.ones(32) / 32, mode="same")
    wave_ = np.sign(np.sin(2 * np.pi * f * T)) * 0.5 if rng.random() < 0.5 else np.sin(2 * np.pi * f * T)
    return spectral(wave_ * gate, lambda fr: (fr < 7500).astype(float)), dict(kind=kind, freq=round(f), duty=round(duty, 2))


def bell(rng, split):
    kind = str(rng.choice(["struck", "fm", "chimes", "doorbell", "phone", "bicycle"]))
    if kind == "struck":
        return seed_tools.s_bell(rng), dict(kind=kind)
    out = np.zeros(N)
    if kind == "fm":
        f = rng.uniform(300, 1200)
        n = N - int(0.1 * SR)
        u = np.arange(n) / SR
        place(out, np.sin(2 * np.pi * f * u + rng.uniform(2, 6) * np.exp(-u * 1.5) * np.sin(2 * np.pi * f * 1.4 * u)) * np.exp(-u * rng.uniform(0.8, 2.5)), rng.uniform(0, 0.1) * SR)
    elif kind in ("chimes", "doorbell"):
        notes = [rng.uniform(500, 1500) for _ in range(int(rng.integers(2, 6)))] if kind == "chimes" else [rng.uniform(600, 900), None]
        if kind == "doorbell":
            notes[1] = notes[0] * 0.8
        t = rng.uniform(0, 0.2)
        for f in notes:
            n = int(1.2 * SR)
            u = np.arange(n) / SR
            y = sum(a * np.sin(2 * np.pi * f * r * u) * np.exp(-u * d) for r, a, d in [(1, 1, 1.5), (2.76, 0.4, 3), (5.4, 0.2, 5)] if f * r < 7500)
            place(out, y, t * SR)
            t += rng.uniform(0.25, 0.5)
    elif kind == "phone":
        f1, f2 = rng.uniform(400, 900), rng.uniform(900, 1500)
        trill = (np.sin(2 * np.pi * rng.uniform(15, 25) * T) > 0)
        y = np.where(trill, np.sin(2 * np.pi * f1 * T), np.sin(2 * np.pi * f2 * T))
        on = (((T + rng.uniform(0, 1)) % rng.uniform(1.5, 2.5)) < rng.uniform(0.8, 1.2)).astype(float)
        out = y * np.convolve(on, np.ones(64) / 64, mode="same")
    else:
        f = rng.uniform(2500, 4000)
        t = rng.uniform(0, 0.3)
        for _ in range(int(rng.integers(6, 16))):
            n = int(0.3 * SR)
            u = np.arange(n) / SR
            place(out, (np.sin(2 * np.pi * f * u) + 0.5 * np.sin(2 * np.pi * f * 1.5 * u)) * np.exp(-u * 12), t * SR)
            t += rng.uniform(0.04, 0.07)
    return out, dict(kind=kind)


def knock(rng, split):
    kind = str(rng.choice(["door", "tap", "clap", "click"]))
    if kind == "door":
        out = seed_tools.s_door_knock(rng)
        if rng.random() < 0.5:
            place(out, seed_tools.s_door_knock(rng)[: SR], rng.uniform(0.9, 1.0) * SR)
        return out, dict(kind=kind)
    out = np.zeros(N)
    t = rng.uniform(0, 0.3)
    interval = rng.uniform(0.08, 0.4)
    while t < 1.9:
        n = int(0.1 * SR)
        u = np.arange(n) / SR
        if kind == "clap":
            y = spectral(rng.standard_normal(n), bandpass(rng.uniform(1000, 2500), 800)) * np.exp(-u * rng.uniform(40, 80))
            y = y + 0.3 * np.concatenate([np.zeros(int(0.012 * SR)), y[: n - int(0.012 * SR)]])
        elif kind == "tap":
            f = rng.uniform(400, 2500)
            y = np.sin(2 * np.pi * f * u) * np.exp(-u * rng.uniform(60, 150)) + 0.3 * rng.standard_normal(n) * np.exp(-u * 400)
        else:
            y = spectral(rng.standard_normal(n) * np.exp(-u * 1500), bandpass(rng.uniform(2000, 6000), 1500))
        place(out, y * rng.uniform(0.5, 1.0), t * SR)
        t += interval * rng.uniform(0.7, 1.3)
        if rng.random() < 0.15:
            t += rng.uniform(0.2, 0.5)
    return out, dict(kind=kind)


SYNTH = {"speech": speech, "music": music, "silence": silence, "noise": noise, "siren": siren, "alarm": alarm,
         "bell": bell, "knock": knock}


def codec(rng, x):
    """An MP3 or Opus round trip through FFmpeg (single thread, bit-exact flags)."""
    kind = str(rng.choice(["mp3", "opus"]))
    rate = int(rng.choice([32, 48, 64, 96]))
    enc = ["-c:a", "libmp3lame", "-f", "mp3"] if kind == "mp3" else ["-c:a", "libopus", "-f", "ogg"]
    base = ["ffmpeg", "-v", "error", "-threads", "1", "-fflags", "+bitexact"]
    pcm = np.clip(np.round(x * 32767), -32767, 32767).astype("<i2").tobytes()
    coded = subprocess.run(base + ["-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-", *enc, "-b:a", f"{rate}k",
                                   "-flags:a", "+bitexact", "-map_metadata", "-1", "-"], input=pcm, capture_output=True, check=True).stdout
    # libopus to decode: FFmpeg's native Opus decoder turns some pure tones into full-scale clipping.
    decoder = ["-c:a", "libopus"] if kind == "opus" else []
    back = subprocess.run(base + decoder + ["-i", "-", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-"], input=coded,
                          capture_output=True, check=True).stdout
    y = np.frombuffer(back, dtype="<i2").astype(np.float64) / 32768
    out = np.zeros(N)
    out[: min(N, len(y))] = y[:N]
    return out, f"{kind}@{rate}k"


def make_file(job):
    seed, split, label, i = job
    rng = rng_for(seed, f"{split}/{label}/{i}")
    sig, meta = SYNTH[label](rng, split)
    meta = dict(split=split, label=label, **meta)
    if label == "silence":
        y = sig
    else:
        if rng.random() < 0.3:
            rt60 = float(rng.uniform(0.2, 0.9))
            sig = room(rng, sig, rt60)
            meta["rt60"] = round(rt60, 2)
        level = float(rng.uniform(-35, -8))
        y = sig * (db(level) / (active_rms(sig) + 1e-12))
        meta["level_dbfs"] = round(level, 1)
        if label != "noise" and rng.random() < 0.5:
            snr = float(rng.uniform(5, 35))
            kind = str(rng.choice(["white", "pink", "brown"]))
            y = y + colored_noise(rng, N, kind) * (db(level) / db(snr))
            meta["snr_db"], meta["background"] = round(snr, 1), kind
        peak = np.abs(y).max()
        if peak > 0.95:
            y *= 0.95 / peak
        if rng.random() < 0.2:
            y, meta["codec"] = codec(rng, y)
    pcm = np.clip(np.round(y * 32767.0), -32767, 32767).astype("<i2")
    return f"{split}/{label}/{label}_{i:04d}.wav", meta, pcm


def run_job(args):
    root, job = args
    rel, meta, pcm = make_file(job)
    path = os.path.join(root, rel)
    seed_tools.write_wav(path, pcm)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    x = pcm.astype(np.float64) / 32768.0
    meta.update(file=rel, rms_dbfs=round(20 * np.log10(np.sqrt((x ** 2).mean()) + 1e-12), 2))
    return rel, meta, digest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/kino-data/defaults"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the per-label counts (0.05: a quick check)")
    args = ap.parse_args()
    root = os.path.join(os.path.expanduser(args.out), "sounds")
    jobs = [(root, (args.seed, split, label, i)) for split, per in COUNTS.items() for label in LABELS
            for i in range(max(1, int(round(per * args.scale))))]
    started = time.time()
    os.nice(10)
    with mp.Pool(args.jobs) as pool:
        results = pool.map(run_job, jobs, chunksize=8)
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
    for split in COUNTS:
        levels = {}
        for rel, meta, _ in results:
            if meta["split"] == split:
                levels.setdefault(meta["label"], []).append(meta["rms_dbfs"])
        print(f"sounds/{split}: " + ", ".join(f"{l} {len(v)} ({min(v):.0f}..{max(v):.0f} dBFS)" for l, v in sorted(levels.items())))
    print(f"wrote {len(results)} files under {root} in {time.time() - started:.1f} s with {args.jobs} processes")


if __name__ == "__main__":
    main()
