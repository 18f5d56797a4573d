"""Reference fixture for Kino's compact convolutional transformer (model_type kino-cct), written in PyTorch from
the CCT paper (Hassani et al. 2021, arXiv 2104.05704) and its reference code's structure: a convolutional tokenizer
(conv k×k, stride s, padding k//2, ReLU; repeated), a learned position table, pre-norm transformer blocks (here
transformers' ViTLayer, whose parameter names Kino's encoder reads), a final LayerNorm, sequence pooling
(softmax over tokens of a linear score, weighted sum; CCT's nn.Linear(D, 1) has a bias, which cancels in the
softmax, so Kino and this reference leave it out), and a linear head. Kino uses strided convolutions where
CCT max-pools after each convolution (no max-pool kernel yet); the reference here does the same.

The video model (model_type kino-cct-video) is ViViT's factorised encoder with that stream in space: each tubelet
of kt frames (channels stacked frame-major, so the first convolution is a 3-D one of temporal extent and stride kt)
goes through the compact stream and is pooled; a temporal transformer with a CLS token and a learned position
table reads the pooled vectors; the head reads the temporal CLS after the temporal LayerNorm.

Writes Tests/KinoModelsTests/Fixtures/{cct-a, cct-video-a, cct-video-b (with the feature adapter)}/{config.json, model.safetensors, reference.safetensors,
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


def vit_layers(n):
    cfg = ViTConfig(hidden_size=D, num_hidden_layers=n, num_attention_heads=HEADS, intermediate_size=FFN,
                    hidden_act="gelu", layer_norm_eps=1e-5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                    qkv_bias=True)
    cfg._attn_implementation = "eager"
    return nn.ModuleList([ViTLayer(cfg) for _ in range(n)])


class Stream(nn.Module):
    """Tokenizer, positions, blocks, final norm, sequence pooling over [N, C, H, W]."""
    def __init__(self, channels_in, extent):
        super().__init__()
        convs, c = [], channels_in
        for out in CHANNELS:
            convs.append(nn.Conv2d(c, out, K, stride=S, padding=K // 2))
            c = out
        self.tokenizer = nn.ModuleList(convs)
        h, w = extent
        for _ in CHANNELS:
            h, w = (h + 2 * (K // 2) - K) // S + 1, (w + 2 * (K // 2) - K) // S + 1
        self.grid = (h, w)
        self.position_embeddings = nn.Parameter(torch.randn(1, h * w, D) * 0.2)
        self.layer = vit_layers(LAYERS)
        self.layernorm = nn.LayerNorm(D, eps=1e-5)
        self.attention_pool = nn.Linear(D, 1, bias=False)   # a bias would cancel in the softmax

    def forward(self, x):
        for conv in self.tokenizer:
            x = torch.relu(conv(x))
        x = x.flatten(2).transpose(1, 2) + self.position_embeddings   # [N, L, D], row-major over the grid
        for layer in self.layer:
            x = layer(x)[0]
        hidden = self.layernorm(x)
        weights = torch.softmax(self.attention_pool(hidden), dim=1)     # [N, L, 1]
        return hidden, (weights.transpose(1, 2) @ hidden).squeeze(1)   # [N, D]


class CCT(nn.Module):
    def __init__(self):
        super().__init__()
        self.stream = Stream(1, (MEL, FRAMES))
        self.grid = self.stream.grid
        self.classifier = nn.Linear(D, len(LABELS))

    def forward(self, input_values):           # [B, T, F]
        hidden, pooled = self.stream(input_values.transpose(1, 2).unsqueeze(1))   # [B, 1, F, T]
        return self.classifier(pooled), hidden


FRAMES_V, KT, SIZE, TEMPORAL = 4, 2, 16, 1


class FeatureAdapter(nn.Module):
    """Kino's compact adapter between the encoders: z + up(GELU(down(LN(z)))) on every tubelet vector."""
    def __init__(self, size):
        super().__init__()
        self.layernorm = nn.LayerNorm(D, eps=1e-5)
        self.down = nn.Linear(D, size)
        self.up = nn.Linear(size, D)

    def forward(self, z):
        return z + self.up(nn.functional.gelu(self.down(self.layernorm(z))))


class VideoCCT(nn.Module):
    def __init__(self, adapter=0):
        super().__init__()
        self.spatial = Stream(KT * 3, (SIZE, SIZE))
        self.grid = self.spatial.grid
        self.temporal_cls = nn.Parameter(torch.randn(1, 1, D) * 0.2)
        self.temporal_pos = nn.Parameter(torch.randn(1, 1 + FRAMES_V // KT, D) * 0.2)
        self.temporal_adapter = FeatureAdapter(adapter) if adapter else None
        self.temporal_layer = vit_layers(TEMPORAL)
        self.temporal_norm = nn.LayerNorm(D, eps=1e-5)
        self.classifier = nn.Linear(D, len(LABELS))

    def forward(self, pixel_values):           # [B, T, C, H, W]
        b, t = pixel_values.shape[:2]
        _, pooled = self.spatial(pixel_values.reshape(b * t // KT, KT * 3, SIZE, SIZE))
        z = pooled.reshape(b, t // KT, D)
        if self.temporal_adapter is not None:
            z = self.temporal_adapter(z)
        x = torch.cat([self.temporal_cls.expand(b, -1, -1), z], dim=1) + self.temporal_pos
        for layer in self.temporal_layer:
            x = layer(x)[0]
        hidden = self.temporal_norm(x)
        return self.classifier(hidden[:, 0]), hidden


def kino_key(name):
    name = name.replace("stream.", "", 1) if name.startswith("stream.") else name
    for a, b in [("temporal_cls", "temporal.cls_token"), ("temporal_pos", "temporal.position_embeddings"),
                 ("temporal_layer.", "temporal.encoder.layer."), ("temporal_norm.", "temporal.layernorm."),
                 ("temporal_adapter.", "temporal.adapter.")]:
        if name.startswith(a):
            return b + name[len(a):]
    name = name.replace("layer.", "encoder.layer.", 1) if (name.startswith("layer.") or name.startswith("spatial.layer.")) else name
    return name.replace("position_embeddings", "embeddings.position_embeddings").replace("attention_pool.weight", "pooler.attention.weight")


def write(model, out, config, x, labels):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name or name.startswith("temporal_adapter.up"):
                p.add_(torch.randn_like(p) * 0.1)
            if name.endswith("attention_pool.weight"):
                p.mul_(8)                      # a pool that is far from uniform
    os.makedirs(out, exist_ok=True)
    state = {kino_key(k): v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, out + "/model.safetensors", metadata={"format": "pt"})
    with open(out + "/config.json", "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    x = x.clone().requires_grad_(True)
    logits, hidden = model(x)
    name = "input_values" if x.dim() == 3 else "pixel_values"
    save_file({name: x.detach(), "logits": logits.detach(), "last_hidden_state": hidden.detach()},
              out + "/reference.safetensors", metadata={"torch": torch.__version__, "transformers": transformers.__version__,
                                                        "command": "tools/.venv/bin/python tools/make-cct-fixtures.py"})
    loss = nn.functional.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    grads = {"grad." + kino_key(k): p.grad.detach().contiguous() for k, p in model.named_parameters()}
    grads["grad." + name] = x.grad.detach()
    grads["loss"] = loss.detach().reshape(1)
    save_file(grads, out + "/gradients.safetensors",
              metadata={"labels": json.dumps(labels), "loss": "cross-entropy", "label_smoothing": "0.0", "torch": torch.__version__,
                        "transformers": transformers.__version__, "command": "tools/.venv/bin/python tools/make-cct-fixtures.py"})
    print(out, "grid", model.grid, "params", sum(p.numel() for p in model.parameters()), "loss", loss.item())


common = {"hidden_size": D, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": FFN,
          "hidden_act": "gelu", "layer_norm_eps": 1e-5, "qkv_bias": True, "id2label": {str(i): l for i, l in enumerate(LABELS)},
          "label2id": {l: i for i, l in enumerate(LABELS)}, "tokenizer_channels": CHANNELS, "tokenizer_kernel": K,
          "tokenizer_stride": S}
write(CCT(), "Tests/KinoModelsTests/Fixtures/cct-a",
      dict(common, model_type="kino-cct", architectures=["CompactTransformerForAudioClassification"], max_length=FRAMES,
           num_mel_bins=MEL), torch.randn(2, FRAMES, MEL), [0, 2])
write(VideoCCT(), "Tests/KinoModelsTests/Fixtures/cct-video-a",
      dict(common, model_type="kino-cct-video", architectures=["CompactVideoTransformer"], num_temporal_layers=TEMPORAL,
           image_size=SIZE, num_frames=FRAMES_V, num_channels=3, tubelet_frames=KT), torch.randn(2, FRAMES_V, 3, SIZE, SIZE), [1, 0])
# The same with the compact adapter between the encoders (feature_adapter_size), its up-projection made non-zero.
write(VideoCCT(adapter=8), "Tests/KinoModelsTests/Fixtures/cct-video-b",
      dict(common, model_type="kino-cct-video", architectures=["CompactVideoTransformer"], num_temporal_layers=TEMPORAL,
           image_size=SIZE, num_frames=FRAMES_V, num_channels=3, tubelet_frames=KT, feature_adapter_size=8),
      torch.randn(2, FRAMES_V, 3, SIZE, SIZE), [2, 1])
