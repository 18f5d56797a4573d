#!/usr/bin/env python3
"""One training step (forward, backward, AdamW) in Kino and in PyTorch eager, same shapes, same threads.

Command (from the repository root, after `bash tools/setup-reference.sh` and
`swift build -c release --package-path Benchmarks --product train-bench -Xswiftc -target-cpu -Xswiftc haswell`):

    tools/.venv/bin/python Benchmarks/train_bench.py --threads 2 --steps 5

Cases: (a) ViT-S/16 (384 hidden, 12 layers, 6 heads) full fine-tuning, batch 8 at 224×224;
(b) AST-Base (random weights, real shapes) frozen with LoRA r=8 (alpha 16) on query and value,
batch 4 of 1024-frame windows (PyTorch: the same update written as a module around HF's frozen
nn.Linear, as PEFT computes it); (c) a 4-layer factorised-encoder temporal transformer (ViT-B
width) over cached spatial features [32, 16, 768], spatial part frozen.
Each side runs in its own process (PyTorch: torch.set_num_threads(T); Kino: OpenBLAS one thread,
T workers) and answers "run" requests with one step's time; after a warm-up step each, the
driver alternates them --steps times so both see the same machine load. Medians, GFLOP/s against
the sgemm peak measured in this run (torch.mm 2048², T threads), each process's peak RSS.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH = os.path.join(HERE, ".build", "release", "train-bench")

TORCH_SIDE = r'''
import json, sys, time, resource
import torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[5])
case, folder, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)
if case == "full":
    from transformers import ViTForImageClassification
    model = ViTForImageClassification.from_pretrained(folder, attn_implementation="eager").train()
    params = list(model.parameters())
    x = torch.randn(batch, 3, 224, 224)
    labels = torch.tensor([i % model.config.num_labels for i in range(batch)])
    run = lambda: model(pixel_values=x).logits
elif case == "lora":
    from transformers import ASTForAudioClassification
    model = ASTForAudioClassification.from_pretrained(folder, attn_implementation="eager").train()
    for p in model.parameters():
        p.requires_grad_(False)

    class LoRA(torch.nn.Module):
        def __init__(self, base, r=8, alpha=16):
            super().__init__()
            self.base, self.scale = base, alpha / r
            self.A = torch.nn.Parameter(torch.empty(r, base.in_features))
            torch.nn.init.kaiming_uniform_(self.A, a=5 ** 0.5)
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, r))

        def forward(self, x):
            return self.base(x) + (x @ self.A.t() @ self.B.t()) * self.scale

    for layer in model.audio_spectrogram_transformer.encoder.layer:
        layer.attention.attention.query = LoRA(layer.attention.attention.query)
        layer.attention.attention.value = LoRA(layer.attention.attention.value)
    params = [p for p in model.parameters() if p.requires_grad]
    x = torch.randn(batch, 1024, 128)
    labels = torch.tensor([i % model.config.num_labels for i in range(batch)])
    run = lambda: model(input_values=x).logits
else:
    import vivit_fe_reference as fe
    from safetensors.torch import load_file
    cfg = json.load(open(folder + "/config.json"))
    w = load_file(folder + "/model.safetensors")
    for k in w:
        w[k].requires_grad_(not k.startswith("spatial."))
    params = [v for k, v in w.items() if not k.startswith("spatial.")]
    d = cfg["hidden_size"]
    z = torch.randn(batch, cfg["num_frames"] // cfg["tubelet_size"][0], d)
    labels = torch.tensor([i % len(cfg["id2label"]) for i in range(batch)])
    def run():
        y = torch.cat([w["temporal.cls_token"].expand(batch, 1, d), z], dim=1) + w["temporal.position_embeddings"]
        y = fe.encoder(y, w, "temporal.", cfg["num_temporal_layers"], cfg["num_attention_heads"], cfg["hidden_act"], cfg["layer_norm_eps"])
        return F.linear(y[:, 0], w["classifier.weight"], w["classifier.bias"])
opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
print("ready", flush=True)
for line in sys.stdin:
    line = line.strip()
    if line == "quit":
        break
    if line == "rss":
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
    elif line == "peak":
        a = torch.randn(2048, 2048); b = torch.randn(2048, 2048)
        torch.mm(a, b); t = time.perf_counter(); [torch.mm(a, b) for _ in range(5)]
        print(5 * 2 * 2048 ** 3 / (time.perf_counter() - t) / 1e9, flush=True)
    else:
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(run(), labels).backward()
        opt.step()
        print((time.perf_counter() - t) * 1000, flush=True)
'''


def make_folders(tmp):
    import torch
    from safetensors.torch import save_file
    from transformers import ViTConfig, ViTForImageClassification
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import vivit_fe_reference as fe
    torch.manual_seed(0)
    from transformers import ASTConfig, ASTForAudioClassification
    ast = os.path.join(tmp, "ast-base")
    ASTForAudioClassification(ASTConfig(num_labels=527)).save_pretrained(ast)
    vit = os.path.join(tmp, "vit-s")
    ViTForImageClassification(ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                                         intermediate_size=1536, num_labels=1000)).save_pretrained(vit)
    temporal = os.path.join(tmp, "fe-temporal")
    os.makedirs(temporal)
    cfg = {"model_type": "vivit-factorised-encoder", "architectures": ["ViViTFactorisedEncoder"], "num_channels": 3,
           "qkv_bias": True, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
           "hidden_act": "gelu", "layer_norm_eps": 1e-6, "num_hidden_layers": 0, "num_temporal_layers": 4,
           "image_size": 32, "num_frames": 32, "tubelet_size": [2, 16, 16],
           "id2label": {str(i): f"class_{i}" for i in range(400)}}
    json.dump(cfg, open(os.path.join(temporal, "config.json"), "w"))
    w = fe.random_weights(cfg, torch.Generator().manual_seed(1), scale=0.02)
    save_file(w, os.path.join(temporal, "model.safetensors"))
    return vit, ast, temporal


def gflop(case):
    # Multiply-adds × 2 × 3 (forward, input and weight gradients) of the matrix products; for
    # the frozen LoRA case × 2 (forward and input gradients; the adapters' own products are tiny).
    if case == "lora":
        n, d, m, layers, b = 1214, 768, 3072, 12, 4
        per_layer = 2 * n * (4 * d * d + 2 * d * m) + 2 * 2 * n * n * d
        return 2 * b * layers * per_layer / 1e9
    if case == "full":
        n, d, m, layers, b = 197, 384, 1536, 12, 8
        per_layer = 2 * n * (4 * d * d + 2 * d * m) + 2 * 2 * n * n * d
        forward = b * (layers * per_layer + 2 * 196 * 768 * d + 2 * d * 1000)
    else:
        n, d, m, layers, b = 17, 768, 3072, 4, 32
        per_layer = 2 * n * (4 * d * d + 2 * d * m) + 2 * 2 * n * n * d
        forward = b * layers * per_layer
    return 3 * forward / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    args = p.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"build {BENCH} first (see the docstring)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        vit, ast, temporal = make_folders(tmp)
        for label, case, folder, batch in (("(a) ViT-S/16 full fine-tuning, batch 8 × 224²", "full", vit, 8),
                                           ("(b) AST-Base frozen, LoRA r=8 on query/value, batch 4 × 1024 frames", "lora", ast, 4),
                                           ("(c) FE temporal, 4 layers, batch 32 × 16 × 768", "temporal", temporal, 32)):
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            kino = subprocess.Popen([BENCH, "--model", folder, "--case", case, "--batch", str(batch),
                                     "--threads", str(args.threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            torch_side = subprocess.Popen([sys.executable, "-c", TORCH_SIDE, case, folder, str(batch), "0",
                                           os.path.join(ROOT, "tools"), str(args.threads)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            for p in (kino, torch_side):
                assert p.stdout.readline().strip() == "ready"

            def ask(p, what="run"):
                p.stdin.write(what + "\n")
                p.stdin.flush()
                return float(p.stdout.readline())

            ask(kino), ask(torch_side)          # warm-up (AdamW allocates its moments)
            times_k, times_t = [], []
            for _ in range(args.steps):
                times_k.append(ask(kino))
                times_t.append(ask(torch_side))
            peak = ask(torch_side, "peak")
            kino_rss, torch_rss = ask(kino, "rss"), ask(torch_side, "rss")
            for p in (kino, torch_side):
                p.stdin.write("quit\n")
                p.stdin.flush()
                p.wait()
            k, t = statistics.median(times_k), statistics.median(times_t)
            g = gflop(case)
            rows.append((label, k, t, g / (k / 1000), g / (t / 1000), peak, kino_rss, torch_rss))
    print(f"| step, {args.threads} threads | Kino ms | PyTorch ms | time ratio | Kino GFLOP/s | PyTorch GFLOP/s | sgemm peak | Kino RSS MB | PyTorch RSS MB | RSS ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, k, t, gk, gt, peak, rk, rt in rows:
        print(f"| {label} | {k:.0f} | {t:.0f} | {k / t:.2f}× | {gk:.0f} | {gt:.0f} | {peak:.0f} | {rk:.0f} | {rt:.0f} | {rk / rt:.2f}× |")


if __name__ == "__main__":
    main()
