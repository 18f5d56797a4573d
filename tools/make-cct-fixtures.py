"""Reference fixture for Kino's compact convolutional transformer (model_type kino-cct), written in PyTorch from
the CCT paper (Hassani et al. 2021, arXiv 2104.05704) and its reference code's structure: a convolutional tokenizer
(conv k×k, stride s, padding k//2, ReLU; repeated), a learned position table, pre-norm transformer blocks (here
transformers' ViTLayer, whose parameter names Kino's encoder reads), a final LayerNorm, sequence pooling
(softmax over tokens of a linear score, weighted sum; CCT's nn.Linear(D, 1) has a bias, which cancels in the
softmax, so Kino and this reference leave it out), and a linear head. Kino uses strided convolutions where
CCT max-pools after each convolution (no max-pool kernel yet); the reference here does the same.

Writes Tests/KinoModelsTests/Fixtures/cct-a/{config.json, model.safetensors, reference.safetensors,
gradients.safetensors}: random non-trivial weights (biases and LayerNorm scales perturbed too), an input batch,
its logits and last hidden state, the cross-entropy loss for fixed labels and every parameter's and the input's
gradient (torch.autograd).

    tools/.venv/bin/python tools/make-cct-fixtures.py     # torch 2.5.1, transformers 4.46.3
"""
import json, os
import torch
from torch import nn
import transformers
from transformers import ViTConfig
from transformers.models.vit.modeling_vit import ViTLayer
from safetensors.torch import save_file

torch.manual_seed(0)
D, LAYERS, HEADS, FFN = 32, 2, 4, 64
MEL, FRAMES = 16, 24
CHANNELS, K, S = [8, D], 3, 2
LABELS = ["speech", "music", "noise"]


class CCT(nn.Module):
    def __init__(self):
        super().__init__()
        convs, c = [], 1
        for out in CHANNELS:
            convs.append(nn.Conv2d(c, out, K, stride=S, padding=K // 2))
            c = out
        self.tokenizer = nn.ModuleList(convs)
        h, w = MEL, FRAMES
        for _ in CHANNELS:
            h, w = (h + 2 * (K // 2) - K) // S + 1, (w + 2 * (K // 2) - K) // S + 1
        self.grid = (h, w)
        self.position_embeddings = nn.Parameter(torch.randn(1, h * w, D) * 0.2)
        cfg = ViTConfig(hidden_size=D, num_hidden_layers=LAYERS, num_attention_heads=HEADS, intermediate_size=FFN,
                        hidden_act="gelu", layer_norm_eps=1e-5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                        qkv_bias=True)
        cfg._attn_implementation = "eager"
        self.layer = nn.ModuleList([ViTLayer(cfg) for _ in range(LAYERS)])
        self.layernorm = nn.LayerNorm(D, eps=1e-5)
        self.attention_pool = nn.Linear(D, 1, bias=False)   # a bias would cancel in the softmax
        self.classifier = nn.Linear(D, len(LABELS))

    def forward(self, input_values):           # [B, T, F]
        x = input_values.transpose(1, 2).unsqueeze(1)   # [B, 1, F, T]
        for conv in self.tokenizer:
            x = torch.relu(conv(x))
        x = x.flatten(2).transpose(1, 2) + self.position_embeddings   # [B, N, D], frequency-major
        for layer in self.layer:
            x = layer(x)[0]
        hidden = self.layernorm(x)
        weights = torch.softmax(self.attention_pool(hidden), dim=1)     # [B, N, 1]
        pooled = (weights.transpose(1, 2) @ hidden).squeeze(1)          # [B, D]
        return self.classifier(pooled), hidden


model = CCT()
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("bias") or "layernorm" in name:
            p.add_(torch.randn_like(p) * 0.1)
        if name == "attention_pool.weight":
            p.mul_(8)                          # a pool that is far from uniform

def kino_key(name):
    if name.startswith("layer."):
        return "encoder." + name
    return {"position_embeddings": "embeddings.position_embeddings", "attention_pool.weight": "pooler.attention.weight"}.get(name, name)

out = "Tests/KinoModelsTests/Fixtures/cct-a"
os.makedirs(out, exist_ok=True)
state = {kino_key(k): v.detach().contiguous() for k, v in model.state_dict().items()}
save_file(state, out + "/model.safetensors", metadata={"format": "pt"})
config = {"model_type": "kino-cct", "architectures": ["CompactTransformerForAudioClassification"], "hidden_size": D,
          "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": FFN, "hidden_act": "gelu",
          "layer_norm_eps": 1e-5, "qkv_bias": True, "id2label": {str(i): l for i, l in enumerate(LABELS)},
          "label2id": {l: i for i, l in enumerate(LABELS)}, "max_length": FRAMES, "num_mel_bins": MEL,
          "tokenizer_channels": CHANNELS, "tokenizer_kernel": K, "tokenizer_stride": S}
with open(out + "/config.json", "w") as f:
    json.dump(config, f, indent=2, sort_keys=True)

x = torch.randn(2, FRAMES, MEL, requires_grad=True)
logits, hidden = model(x)
save_file({"input_values": x.detach(), "logits": logits.detach(), "last_hidden_state": hidden.detach()},
          out + "/reference.safetensors", metadata={"torch": torch.__version__, "transformers": transformers.__version__,
                                                    "command": "tools/.venv/bin/python tools/make-cct-fixtures.py"})
labels = [0, 2]
loss = nn.functional.cross_entropy(logits, torch.tensor(labels))
loss.backward()
grads = {"grad." + kino_key(k): p.grad.detach().contiguous() for k, p in model.named_parameters()}
grads["grad.input_values"] = x.grad.detach()
grads["loss"] = loss.detach().reshape(1)
save_file(grads, out + "/gradients.safetensors",
          metadata={"labels": json.dumps(labels), "loss": "cross-entropy", "label_smoothing": "0.0", "torch": torch.__version__,
                    "transformers": transformers.__version__, "command": "tools/.venv/bin/python tools/make-cct-fixtures.py"})
print(out, "grid", model.grid, "params", sum(p.numel() for p in model.parameters()), "loss", loss.item())
