#!/usr/bin/env python3
"""Kino's KaldiFbank against torchaudio.compliance.kaldi.fbank, one run, same input, AST settings.

Command (from the repository root, after `bash tools/setup-reference.sh`):

    tools/.venv/bin/python Benchmarks/fbank_bench.py --write

Builds Benchmarks/ in release mode, writes 60 s of deterministic 16 kHz audio (speech-band noise,
harmonic tones and a sweep) to a temporary float32 file, times `fbank-bench` (Kino, one thread, its
own per-run timer) and torchaudio (torch.set_num_threads(1)) on it, checks that the two outputs
agree, and prints a Markdown table of medians. `--write` also replaces the section
`## Spectrogram (Kaldi fbank)` of Benchmarks/RESULTS.md with that table.
"""
# Release builds use AVX2 code generation where the CPU has it, as `make release` does.
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchaudio
from torchaudio.compliance import kaldi

# Release builds use AVX2 code generation where the CPU has it, as `make release` does.
AVX2_FLAGS = (["-Xswiftc", "-target-cpu", "-Xswiftc", "haswell"]
              if "avx2" in open("/proc/cpuinfo").read().split() else [])

HERE = os.path.dirname(os.path.abspath(__file__))
SR = 16000
HEADING = "## Spectrogram (Kaldi fbank)"


def audio(seconds):
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(60)
    x = 0.05 * rng.standard_normal(t.size)
    for f0 in (196.0, 293.7, 440.0):
        x += 0.1 * np.sin(2 * np.pi * f0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    x += 0.1 * np.sin(2 * np.pi * (100 * t + 40 * t ** 2))
    return x.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=25, help="timed runs of each (rounds of 5)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--write", action="store_true", help="update Benchmarks/RESULTS.md")
    args = parser.parse_args()

    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "fbank-bench"] + AVX2_FLAGS, cwd=HERE, check=True)
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"] + AVX2_FLAGS, cwd=HERE, check=True,
                            capture_output=True, text=True).stdout.strip() + "/fbank-bench"

    x = audio(args.seconds)
    torch.set_num_threads(1)
    waveform = torch.from_numpy(x)[None]
    options = dict(sample_frequency=SR, window_type="hanning", num_mel_bins=128)
    ref = kaldi.fbank(waveform, **options).numpy()  # warm-up
    # Rounds alternate Kino and torchaudio so that load from other processes hits both alike.
    kino_seconds, torch_seconds, kino2_seconds = [], [], []
    per_round = 5
    with tempfile.TemporaryDirectory() as tmp:
        wav, out = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.f32")
        x.tofile(wav)
        # KinoDSP links OpenBLAS through KinoTensor; keep its idle worker threads from spinning.
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        for _ in range(max(1, args.runs // per_round)):
            kino = json.loads(subprocess.run([binary, wav, str(per_round), out], check=True, env=env,
                                             capture_output=True, text=True).stdout)
            kino_seconds += kino["seconds"]
            kino2 = json.loads(subprocess.run([binary, wav, str(per_round), "-", "2"], check=True, env=env,
                                              capture_output=True, text=True).stdout)
            kino2_seconds += kino2["seconds"]
            for _ in range(per_round):
                start = time.perf_counter()
                kaldi.fbank(waveform, **options)
                torch_seconds.append(time.perf_counter() - start)
        kino_out = np.fromfile(out, dtype="<f4").reshape(kino["frames"], kino["bins"])

    diff = np.abs(kino_out - ref)
    k, t = statistics.median(kino_seconds), statistics.median(torch_seconds)
    k2 = statistics.median(kino2_seconds)
    cpu = platform.processor() or platform.machine()
    table = "\n".join([
        f"{args.seconds:g} s of 16 kHz audio → {ref.shape[0]}×{ref.shape[1]} log-mel (AST settings: hanning, "
        f"128 bins, 25/10 ms); {len(kino_seconds)} timed runs each, in alternating rounds after a warm-up, "
        f"one thread each; "
        f"{os.cpu_count()} CPUs ({cpu}, load average {os.getloadavg()[0]:.1f} at the end: the machine is shared, "
        f"so the minimum is the steadier figure), torch {torch.__version__}, torchaudio {torchaudio.__version__}.",
        "",
        "| implementation | median (ms) | min (ms) | frames/s (median) | speed-up (median) | speed-up (min) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| torchaudio.compliance.kaldi.fbank (torch.set_num_threads(1)) | {t * 1e3:.2f} | "
        f"{min(torch_seconds) * 1e3:.2f} | {ref.shape[0] / t:,.0f} | 1.00× | 1.00× |",
        f"| Kino KaldiFbank (release, 1 thread) | {k * 1e3:.2f} | {min(kino_seconds) * 1e3:.2f} | "
        f"{ref.shape[0] / k:,.0f} | {t / k:.2f}× | {min(torch_seconds) / min(kino_seconds):.2f}× |",
        f"| Kino KaldiFbank (release, `threads: 2`; not a like-for-like row) | {k2 * 1e3:.2f} | "
        f"{min(kino2_seconds) * 1e3:.2f} | {ref.shape[0] / k2:,.0f} | {t / k2:.2f}× | "
        f"{min(torch_seconds) / min(kino2_seconds):.2f}× |",
        "",
        f"Outputs agree: mean |Δ| {diff.mean():.2e}, max |Δ| {diff.max():.2e} (log-mel).",
        "",
        "Command: `tools/.venv/bin/python Benchmarks/fbank_bench.py --write`",
    ])
    print(table)
    if args.write:
        path = os.path.join(HERE, "RESULTS.md")
        text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
        if HEADING in text:
            before, rest = text.split(HEADING, 1)
            after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        else:
            before, after = text.rstrip("\n") + "\n\n", ""
        with open(path, "w") as f:
            f.write(before + HEADING + "\n\n" + table + "\n" + after)
    return 0 if kino_out.shape == ref.shape and diff.max() < 2e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
