#!/usr/bin/env python3
"""Inference speed of two Kino builds side by side (a refactor's regression guard).

Command (from the repository root): build model-bench in release in both trees, then
    tools/.venv/bin/python Benchmarks/regression_bench.py OLD/Benchmarks/.build/release/model-bench \
        Benchmarks/.build/release/model-bench --threads 2 --rounds 7

Cases as Benchmarks/model_bench.py (ViT-B/16 on 8 frames at 224×224, AST-Base on one 1024-frame
window, transformers' random init). The two binaries answer alternating "run" requests so both see
the same machine load; the table gives the medians and new/old.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_bench import cases  # noqa: E402
from safetensors.torch import save_file  # noqa: E402


def start(binary, folder, threads):
    p = subprocess.Popen([binary, "--model", folder, "--input", folder + "/input.safetensors",
                          "--output", folder + "/out-" + str(abs(hash(binary))) + ".safetensors", "--threads", str(threads)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("ready")
    return p


def ask(p):
    p.stdin.write("run\n")
    p.stdin.flush()
    return float(p.stdout.readline())


def main():
    a = argparse.ArgumentParser()
    a.add_argument("old")
    a.add_argument("new")
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--rounds", type=int, default=7)
    args = a.parse_args()
    print(f"| forward, {args.threads} threads | before ms | after ms | after/before |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, model, input_name, x) in enumerate(cases()):
            folder = os.path.join(tmp, str(i))
            model.save_pretrained(folder)
            save_file({input_name: x.contiguous()}, folder + "/input.safetensors")
            old, new = start(args.old, folder, args.threads), start(args.new, folder, args.threads)
            t_old, t_new = [], []
            for _ in range(args.rounds):
                t_old.append(ask(old))
                t_new.append(ask(new))
            for p in (old, new):
                p.stdin.write("quit\n")
                p.stdin.flush()
                p.wait()
            mo, mn = statistics.median(t_old), statistics.median(t_new)
            print(f"| {name} | {mo:.0f} | {mn:.0f} | {mn / mo:.3f}× |")


if __name__ == "__main__":
    main()
