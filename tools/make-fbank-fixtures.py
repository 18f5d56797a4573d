#!/usr/bin/env python3
"""Reference fixtures for KinoDSP: kaldi.fbank, ASTFeatureExtractor, torchaudio.transforms, colour maps.

Command that produced the committed fixtures (run from the repository root):

    bash tools/setup-reference.sh && tools/.venv/bin/python tools/make-fbank-fixtures.py

with torch 2.5.1, torchaudio 2.5.1, transformers 4.46.3, numpy 1.26.4, matplotlib 3.9.2, espeak-ng 1.51.

Writes Tests/KinoDSPTests/Fixtures/:
  manifest.json       inputs (name, file, samples) and cases (name, kind, input, options, shape, file)
  in_<name>.f32       input waveforms, float32 little-endian, 16 kHz mono
  <case>.f32          reference outputs, float32 little-endian, row-major [frames, bins]: kind "fbank"
                      (kaldi.fbank), "ast" (ASTFeatureExtractor), "stft", "melspec_db", "mfcc"
                      (torchaudio.transforms, transposed to time-major)
  colormap_<name>.u8  matplotlib 3.9.2 viridis / magma, 256 x RGB bytes
Everything is deterministic: fixed seeds, and one espeak-ng utterance resampled with torchaudio.
"""
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np
import torch
import torchaudio
from torchaudio.compliance import kaldi
from matplotlib import colormaps
from transformers import ASTFeatureExtractor

SR = 16000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "KinoDSPTests", "Fixtures")


def espeak(text, seconds):
    """One real utterance: espeak-ng at its native rate, resampled to 16 kHz, cut to `seconds`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-w", path, text], check=True)
        with wave.open(path) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    x = torchaudio.functional.resample(torch.from_numpy(pcm), rate, SR).numpy()
    start = int(np.argmax(np.abs(x) > 0.01))  # skip leading silence
    return x[start:start + int(seconds * SR)]


def inputs():
    t1 = np.arange(SR) / SR
    rng = np.random.default_rng(1234)
    music_t = np.arange(int(1.5 * SR)) / SR
    music = np.zeros_like(music_t)
    for onset, f0 in [(0.0, 220.0), (0.5, 277.18), (1.0, 329.63)]:
        env = np.where(music_t >= onset, np.exp(-3.0 * (music_t - onset)), 0.0) * np.minimum(1, (music_t - onset).clip(0) * 50)
        for h in range(1, 7):
            music += env * 0.3 / h * np.sin(2 * np.pi * f0 * h * music_t)
    chirp_phase = 2 * np.pi * (100 * t1 + 0.5 * (7500 - 100) * t1 ** 2)
    # Pure synthetic tones leave most bands at float32 rounding noise (energies near 1e-7), where
    # torchaudio's own float32 result differs from its float64 one by up to 2e-2 in log; a -40 dB
    # noise floor, as any recording has, keeps the comparison about the algorithm. The sweep is
    # kept 20 dB above it: louder, the low bands of its high-frequency frames fall back to
    # rounding noise (torchaudio float32 vs float64: 4.6e-3 at amplitude 0.5).
    floor = 1e-2 * np.random.default_rng(99).standard_normal(SR)
    return {
        "speech": espeak("Kino listens to the quick brown fox.", 1.6),
        "tones": 0.4 * np.sin(2 * np.pi * 440 * t1) + 0.2 * np.sin(2 * np.pi * 3000 * t1) + floor,
        "chirp": 0.1 * np.sin(chirp_phase) + floor,
        "noise": 0.1 * rng.standard_normal(SR),
        "music": music,
        "silence": np.zeros(SR // 2),
        "short": 0.1 * rng.standard_normal(300),
        "dc": 0.5 + 0.3 * np.sin(2 * np.pi * 1000 * t1[: SR - 123]),
        "clipped": np.clip(1.5 * np.sin(2 * np.pi * 300 * t1[: SR + 77]), -1.0, 1.0),
    }


AST = dict(window_type="hanning", num_mel_bins=128, sample_frequency=16000.0)
FBANK_CASES = [("ast", name, AST) for name in
               ["speech", "tones", "chirp", "noise", "music", "silence", "dc", "clipped"]] + [
    ("povey_energy", "speech", dict(use_energy=True)),
    ("povey_energy", "noise", dict(use_energy=True)),
    ("povey_energy", "silence", dict(use_energy=True)),
    ("hamming_nosnip", "speech", dict(window_type="hamming", snip_edges=False, num_mel_bins=40)),
    ("hamming_nosnip", "tones", dict(window_type="hamming", snip_edges=False, num_mel_bins=40)),
    ("htk_energy_windowed", "music", dict(htk_compat=True, use_energy=True, raw_energy=False, energy_floor=0.0)),
    ("freq_range", "chirp", dict(low_freq=100.0, high_freq=-400.0, num_mel_bins=64, window_type="hanning")),
    ("freq_range", "speech", dict(low_freq=50.0, high_freq=6000.0, num_mel_bins=64)),
    ("no_pow2", "speech", dict(round_to_power_of_two=False, num_mel_bins=80, window_type="hanning")),
    ("no_pow2", "noise", dict(round_to_power_of_two=False, num_mel_bins=80, window_type="hanning")),
    ("magnitude", "tones", dict(use_power=False, num_mel_bins=40, window_type="hanning")),
    ("linear", "noise", dict(use_log_fbank=False, num_mel_bins=40, window_type="hanning")),
    ("blackman_raw", "dc", dict(window_type="blackman", blackman_coeff=0.42, num_mel_bins=40,
                                preemphasis_coefficient=0.0, remove_dc_offset=False)),
    ("rect_meansub", "music", dict(window_type="rectangular", subtract_mean=True, num_mel_bins=30)),
    ("frames_32_12", "speech", dict(frame_length=32.0, frame_shift=12.0, num_mel_bins=60, window_type="hanning")),
    ("rate_8k", "noise8k", dict(sample_frequency=8000.0, num_mel_bins=30, window_type="hamming")),
]
# torchaudio.transforms on the same inputs; outputs are transposed to [time, freq] as Kino returns them.
SPEC_CASES = [
    ("stft", "speech", dict(n_fft=400)),
    ("stft", "tones", dict(n_fft=512, win_length=400, hop_length=160, power=1.0, pad_mode="constant",
                           normalized=True)),
    ("melspec_db", "speech", dict(n_fft=400, n_mels=40)),
    ("melspec_db", "music", dict(n_fft=512, win_length=400, hop_length=160, n_mels=64, f_min=20.0, f_max=7600.0,
                                 norm="slaney", mel_scale="slaney", center=False)),
    ("mfcc", "speech", dict(n_mfcc=13, melkwargs=dict(n_fft=400, hop_length=160, n_mels=40))),
    ("mfcc", "noise", dict(n_mfcc=20, log_mels=True, melkwargs=dict(n_fft=512, n_mels=64))),
]
AST_CASES = [("ast_extractor_128", "speech", 128), ("ast_extractor_128", "tones", 128),
             ("ast_extractor_200", "music", 200), ("ast_extractor_128", "clipped", 128)]


def write_f32(path, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".f32", ".u8")) or f == "manifest.json":
            os.remove(os.path.join(OUT, f))
    torch.manual_seed(0)
    waves = {k: np.asarray(v, dtype=np.float32) for k, v in inputs().items()}
    waves["noise8k"] = waves["noise"][: 8000]  # the same noise read as 8 kHz audio
    manifest = {"versions": {"torch": torch.__version__, "torchaudio": torchaudio.__version__,
                             "numpy": np.__version__}, "inputs": [], "cases": []}
    for name, x in waves.items():
        write_f32(os.path.join(OUT, f"in_{name}.f32"), x)
        manifest["inputs"].append({"name": name, "file": f"in_{name}.f32", "samples": int(x.size)})
    for case, name, options in FBANK_CASES:
        y = kaldi.fbank(torch.from_numpy(waves[name])[None], **options).numpy()
        file = f"fbank_{case}_{name}.f32"
        write_f32(os.path.join(OUT, file), y)
        manifest["cases"].append({"name": f"{case}/{name}", "kind": "fbank", "input": name,
                                  "options": options, "shape": list(y.shape), "file": file})
    for kind, name, options in SPEC_CASES:
        x = torch.from_numpy(waves[name])
        if kind == "stft":
            y = torchaudio.transforms.Spectrogram(**options)(x)
        elif kind == "melspec_db":
            mel = torchaudio.transforms.MelSpectrogram(sample_rate=SR, **options)(x)
            y = torchaudio.transforms.AmplitudeToDB("power", top_db=80.0)(mel)
        else:
            y = torchaudio.transforms.MFCC(sample_rate=SR, **options)(x)
        y = y.T.contiguous().numpy()
        file = f"{kind}_{name}.f32"
        write_f32(os.path.join(OUT, file), y)
        manifest["cases"].append({"name": f"{kind}/{name}", "kind": kind, "input": name,
                                  "options": options, "shape": list(y.shape), "file": file})
    for case, name, max_length in AST_CASES:
        extractor = ASTFeatureExtractor(max_length=max_length)
        y = extractor(waves[name], sampling_rate=SR, return_tensors="np")["input_values"][0]
        file = f"{case}_{name}.f32"
        write_f32(os.path.join(OUT, file), y)
        manifest["cases"].append({"name": f"{case}/{name}", "kind": "ast", "input": name,
                                  "options": {"max_length": max_length}, "shape": list(y.shape), "file": file})
    for name in ("viridis", "magma"):  # matplotlib's 256-entry tables, as 8-bit RGB
        table = np.round(np.asarray(colormaps[name].colors) * 255).astype(np.uint8)
        table.tofile(os.path.join(OUT, f"colormap_{name}.u8"))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(manifest['cases'])} cases, {len(waves)} inputs, {total / 1e6:.2f} MB in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
