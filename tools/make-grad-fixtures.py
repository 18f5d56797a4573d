"""Writes the gradient goldens of Kino's training engine.

1. Tests/KinoModelsTests/Fixtures/<name>/gradients.safetensors for the tiny parity models: the
   loss of the fixture's input against fixed labels, `grad.<key>` for every parameter (keys as in
   the checkpoint) and `grad.<input name>`, computed by torch.autograd in float32.
   Cross-entropy with labels i % L (vit-b with label smoothing 0.1), BCE with multi-hot
   targets for ast-b. Metadata: torch/transformers versions, the command, labels, loss.
2. Tests/KinoModelsTests/Fixtures/ops/gradients.safetensors: per-op goldens for the ops no tiny
   model uses yet (conv2d and conv3d with stride, padding and groups; depthwise conv1d; group norm; batch
   norm in training and evaluation; nearest upsample; pixel (un)shuffle; GLU; GEGLU): `<op>.x`, `<op>.w`, … inputs, `<op>.r` (the loss is Σ r ⊙ out),
   `<op>.out`, and `<op>.grad.<input>`.
3. Tests/KinoTrainTests/Fixtures/optimizer-trajectory.safetensors: a small MLP (Linear 6→8,
   LayerNorm, GELU, Linear 8→3) trained 20 steps on fixed batches with torch.optim.AdamW and
   torch.optim.SGD (momentum, Nesterov, weight decay): initial weights, the batches and the
   final weights of each optimiser.

Command (torch 2.5.1, transformers 4.46.3; venv from `bash tools/setup-reference.sh`):
    tools/.venv/bin/python tools/make-grad-fixtures.py
Fixture names as arguments write only those models' goldens (1.), e.g. after
tools/make-video-model-fixtures.py:
    tools/.venv/bin/python tools/make-grad-fixtures.py videomae-a videomae-b videomae-c timesformer-a timesformer-b
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import load_file, save_file
from transformers import (ASTForAudioClassification, TimesformerForVideoClassification, VideoMAEForVideoClassification,
                          ViTForImageClassification, VivitForVideoClassification)

sys.path.insert(0, os.path.dirname(__file__))
import vivit_fe_reference as fe  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "Tests", "KinoModelsTests", "Fixtures")
TRAIN = os.path.join(HERE, "..", "Tests", "KinoTrainTests", "Fixtures")
COMMAND = "tools/.venv/bin/python tools/make-grad-fixtures.py"
CLASSES = {"vit": ViTForImageClassification, "vivit": VivitForVideoClassification,
           "audio-spectrogram-transformer": ASTForAudioClassification, "videomae": VideoMAEForVideoClassification,
           "timesformer": TimesformerForVideoClassification}


def metadata(**extra):
    return {"torch": torch.__version__, "transformers": transformers.__version__, "command": COMMAND,
            **{k: json.dumps(v) if not isinstance(v, str) else v for k, v in extra.items()}}


def model_gradients(name, loss="cross-entropy", smoothing=0.0):
    folder = os.path.join(MODELS, name)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    ref = load_file(os.path.join(folder, "reference.safetensors"))
    input_name = "input_values" if cfg["model_type"] == "audio-spectrogram-transformer" else "pixel_values"
    x = ref[input_name].clone().requires_grad_(True)
    if cfg["model_type"] == "vivit-factorised-encoder":
        w = {k: v.clone().requires_grad_(True) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
        logits, _ = fe.forward(x, w, cfg)
        params = w
    else:
        model = CLASSES[cfg["model_type"]].from_pretrained(folder, attn_implementation="eager").eval()
        logits = model(**{input_name: x}).logits
        params = dict(model.named_parameters())
    b, n = logits.shape
    labels = [i % n for i in range(b)]
    if loss == "bce":
        targets = torch.zeros(b, n)
        for i in range(b):
            targets[i, i % n] = 1
            targets[i, (i + 2) % n] = 1
        value = F.binary_cross_entropy_with_logits(logits, targets)
    else:
        value = F.cross_entropy(logits, torch.tensor(labels), label_smoothing=smoothing)
    value.backward()
    out = {"loss": value.detach().reshape(1), f"grad.{input_name}": x.grad}
    for key, p in params.items():
        out[f"grad.{key}"] = p.grad.detach().contiguous()
    if loss == "bce":
        out["targets"] = targets
    save_file(out, os.path.join(folder, "gradients.safetensors"),
              metadata=metadata(labels=labels, loss=loss, label_smoothing=smoothing))
    print(f"{name}: loss {value.item():.6f}, {len(params)} parameter gradients")


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 8)
        self.norm = torch.nn.LayerNorm(8, eps=1e-5)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.gelu(self.norm(self.fc1(x))))


def trajectory():
    torch.manual_seed(21)
    start = MLP()
    initial = {k: v.detach().clone() for k, v in start.state_dict().items()}
    g = torch.Generator().manual_seed(22)
    batches = [(torch.randn(5, 6, generator=g), torch.randint(0, 3, (5,), generator=g)) for _ in range(20)]
    out = {f"initial.{k}": v for k, v in initial.items()}
    for i, (x, y) in enumerate(batches):
        out[f"batch.{i}.x"] = x
        out[f"batch.{i}.y"] = y.float()
    for name, make in (("adamw", lambda p: torch.optim.AdamW(p, lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05)),
                       ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3))):
        model = MLP()
        model.load_state_dict(initial)
        opt = make(model.parameters())
        for x, y in batches:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        for k, v in model.state_dict().items():
            out[f"{name}.{k}"] = v.detach().clone()
    os.makedirs(TRAIN, exist_ok=True)
    save_file(out, os.path.join(TRAIN, "optimizer-trajectory.safetensors"),
              metadata=metadata(adamw="lr 1e-2 betas (0.9, 0.99) eps 1e-8 weight_decay 0.05",
                                sgd="lr 0.1 momentum 0.9 nesterov weight_decay 1e-3", steps=20))
    print("optimizer trajectory: 20 steps each")


def op_gradients():
    global BN_MEAN, BN_VAR, BN_MEAN_TRAIN, BN_VAR_TRAIN
    g = torch.Generator().manual_seed(31)
    rand = lambda *shape: torch.randn(*shape, generator=g)
    BN_MEAN, BN_VAR = torch.tensor([0.1, -0.2, 0.3, 0.0]), torch.tensor([1.0, 0.5, 2.0, 1.5])
    BN_MEAN_TRAIN, BN_VAR_TRAIN = BN_MEAN.clone(), BN_VAR.clone()
    ops = {
        "conv2d": ({"x": rand(2, 4, 7, 6), "w": rand(6, 2, 3, 3), "b": rand(6)},
                   lambda t: F.conv2d(t["x"], t["w"], t["b"], stride=2, padding=1, groups=2)),
        "conv3d": ({"x": rand(2, 4, 4, 5, 6), "w": rand(4, 2, 3, 3, 2), "b": rand(4)},
                   lambda t: F.conv3d(t["x"], t["w"], t["b"], stride=(1, 2, 1), padding=(1, 1, 0), groups=2)),
        "conv1d_depthwise": ({"x": rand(2, 3, 11), "w": rand(3, 1, 5), "b": rand(3)},
                             lambda t: F.conv1d(t["x"], t["w"], t["b"], padding=2, groups=3)),
        "group_norm": ({"x": rand(2, 4, 3, 5), "w": rand(4) * 0.5 + 1, "b": rand(4)},
                       lambda t: F.group_norm(t["x"], 2, t["w"], t["b"], eps=1e-5)),
        "upsample": ({"x": rand(2, 3, 4, 5)}, lambda t: F.interpolate(t["x"], scale_factor=2, mode="nearest")),
        "glu": ({"x": rand(2, 6, 5)}, lambda t: F.glu(t["x"], dim=1)),
        "pixel_shuffle": ({"x": rand(2, 8, 3, 2)}, lambda t: F.pixel_shuffle(t["x"], 2)),
        "pixel_unshuffle": ({"x": rand(2, 3, 4, 6)}, lambda t: F.pixel_unshuffle(t["x"], 2)),
        "batch_norm_train": ({"x": rand(3, 4, 5), "w": rand(4) * 0.5 + 1, "b": rand(4)},
                             lambda t: F.batch_norm(t["x"], BN_MEAN_TRAIN, BN_VAR_TRAIN, t["w"], t["b"], training=True,
                                                    momentum=0.1, eps=1e-5)),
        "batch_norm_eval": ({"x": rand(3, 4, 5), "w": rand(4) * 0.5 + 1, "b": rand(4)},
                            lambda t: F.batch_norm(t["x"], BN_MEAN, BN_VAR, t["w"], t["b"], training=False, eps=1e-5)),
        "geglu": ({"x": rand(3, 8)}, lambda t: (lambda h, gate: h * F.gelu(gate))(*t["x"].chunk(2, dim=-1))),
    }
    out = {}
    for name, (inputs, f) in ops.items():
        leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
        y = f(leaves)
        r = rand(*y.shape)
        (y * r).sum().backward()
        out[f"{name}.r"] = r
        out[f"{name}.out"] = y.detach().contiguous()
        for k, v in inputs.items():
            out[f"{name}.{k}"] = v
            out[f"{name}.grad.{k}"] = leaves[k].grad
    out["batch_norm.running_mean"], out["batch_norm.running_var"] = BN_MEAN, BN_VAR
    out["batch_norm_train.new_running_mean"], out["batch_norm_train.new_running_var"] = BN_MEAN_TRAIN, BN_VAR_TRAIN
    folder = os.path.join(MODELS, "ops")
    os.makedirs(folder, exist_ok=True)
    save_file(out, os.path.join(folder, "gradients.safetensors"), metadata=metadata(ops=sorted(ops)))
    print(f"op goldens: {', '.join(sorted(ops))}")


VIDEO = ("videomae-a", "videomae-b", "videomae-c", "timesformer-a", "timesformer-b")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if len(sys.argv) > 1:
        for name in sys.argv[1:]:
            model_gradients(name)
        return
    for name in ("vit-a", "vivit-a", "vivit-b", "vivit-c", "ast-a", "fe-a", "fe-b") + VIDEO:
        model_gradients(name)
    model_gradients("vit-b", smoothing=0.1)
    model_gradients("ast-b", loss="bce")
    op_gradients()
    trajectory()


if __name__ == "__main__":
    main()
