"""Runs the same first optimiser steps as a `kino train` run in PyTorch + PEFT and compares the losses.

    kino train --model BASE --data DATA --method lora --steps 5 --batch-size 4 --no-shuffle --no-augment \
        --dump-initial INIT.safetensors -o RUN
    tools/.venv/bin/python tools/compare-train-steps.py --base BASE --init INIT.safetensors --log RUN/train-log.jsonl \
        --rank 8 --alpha 16 --batch-size 4 --lr 5e-3

INIT holds Kino's initial trainable weights (`param.<module key>`: LoRA A/B and the new head) and the cached inputs in
training order; the base model gets a head of the dumped size (ignore_mismatched_sizes), PEFT LoRA on query/value
with modules_to_save=["classifier"], Kino's weights copied in, then AdamW(betas (0.9, 0.98), eps 1e-6, weight decay
0.1) with Kino's per-step cosine lr (lr_t = lr·(1 + cos(π t/T))/2), batches in file order, mean cross-entropy.
Prints both loss curves and the largest relative difference. Versions: torch 2.5.1, transformers 4.46.3, peft 0.13.2.
"""
import argparse, json, math
import torch
from safetensors.torch import load_file
from transformers import AutoModelForAudioClassification
from peft import LoraConfig, get_peft_model

ap = argparse.ArgumentParser()
for a in ["--base", "--init", "--log"]: ap.add_argument(a, required=True)
ap.add_argument("--rank", type=int, default=8); ap.add_argument("--alpha", type=float, default=16)
ap.add_argument("--save", help="write the torch losses, versions and command to this JSON file")
ap.add_argument("--batch-size", type=int, default=4); ap.add_argument("--lr", type=float, default=5e-3)
args = ap.parse_args()
t = load_file(args.init)
labels = t["labels"].long()
inputs = torch.stack([t[k] for k in sorted(k for k in t if k.startswith("input."))])
head = t["param.classifier.dense.weight"]
model = AutoModelForAudioClassification.from_pretrained(args.base, num_labels=head.shape[0], ignore_mismatched_sizes=True)
model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=args.alpha, target_modules=["query", "value"],
                                         lora_dropout=0.0, modules_to_save=["classifier"]))
state = {}
for name, p in model.named_parameters():
    if not p.requires_grad: continue
    key = name.replace("base_model.model.", "").replace(".default", "").replace("modules_to_save.", "")
    with torch.no_grad(): p.copy_(t["param." + key])
    state[name] = p
model.train()
params = [p for p in model.parameters() if p.requires_grad]
kino = [json.loads(l)["loss"] for l in open(args.log)]
steps = len(kino)
opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.1)
losses = []
n = inputs.shape[0]
for step in range(steps):
    for g in opt.param_groups: g["lr"] = args.lr * (1 + math.cos(math.pi * step / steps)) / 2
    idx = [(step * args.batch_size + j) % n for j in range(args.batch_size)]
    loss = torch.nn.functional.cross_entropy(model(input_values=inputs[idx]).logits, labels[idx])
    opt.zero_grad(); loss.backward(); opt.step()
    losses.append(loss.item())
rel = max(abs(a - b) / abs(b) for a, b in zip(kino, losses))
for i, (a, b) in enumerate(zip(kino, losses)): print(f"step {i + 1}: kino {a:.7f}  torch {b:.7f}")
print(f"max relative difference {rel:.2e}")
if args.save:
    import sys, transformers, peft
    json.dump({"torch_losses": losses, "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
               "peft": peft.__version__}, "command": "tools/.venv/bin/python tools/compare-train-steps.py " + " ".join(sys.argv[1:])},
              open(args.save, "w"), indent=1)
