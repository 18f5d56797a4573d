"""PyTorch reference of the ViViT factorised encoder (scenic SpaceTimeViViT, factorized_encoder),
written from /work/shared/specs/models.md section 4, with Kino's key names.

Spatial transformer per time index (shared weights): tubelet embedding (Conv3d, kernel == stride),
CLS prepended, positions added, pre-norm blocks, final norm, CLS kept. Temporal transformer over the
per-time CLS features with its own CLS token and positions; logits from the temporal CLS.
"""
import math

import torch
import torch.nn.functional as F

ACT = {
    "gelu": lambda x: F.gelu(x),
    "gelu_fast": lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
}


def block(h, w, p, heads, act, eps):
    """One pre-norm encoder block on h [N, S, D] with weights w[p + ...]."""
    d = h.shape[-1]
    dh = d // heads
    lin = lambda x, k: F.linear(x, w[p + k + ".weight"], w[p + k + ".bias"])
    u = F.layer_norm(h, (d,), w[p + "layernorm_before.weight"], w[p + "layernorm_before.bias"], eps)
    split = lambda x: x.view(x.shape[0], x.shape[1], heads, dh).transpose(1, 2)
    q = split(lin(u, "attention.attention.query"))
    k = split(lin(u, "attention.attention.key"))
    v = split(lin(u, "attention.attention.value"))
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
    o = (a @ v).transpose(1, 2).reshape(h.shape)
    h = h + lin(o, "attention.output.dense")
    u = F.layer_norm(h, (d,), w[p + "layernorm_after.weight"], w[p + "layernorm_after.bias"], eps)
    return h + lin(ACT[act](lin(u, "intermediate.dense")), "output.dense")


def encoder(h, w, root, layers, heads, act, eps):
    for i in range(layers):
        h = block(h, w, f"{root}encoder.layer.{i}.", heads, act, eps)
    d = h.shape[-1]
    return F.layer_norm(h, (d,), w[root + "layernorm.weight"], w[root + "layernorm.bias"], eps)


def forward(pixels, w, cfg):
    """pixels [B, T, C, H, W] -> (logits [B, L], temporal last hidden state [B, 1 + nT, D])."""
    d, heads, act, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["hidden_act"], cfg["layer_norm_eps"]
    kt, kh, kw = cfg["tubelet_size"]
    x = pixels.permute(0, 2, 1, 3, 4)  # [B, C, T, H, W]
    e = F.conv3d(x, w["spatial.embeddings.patch_embeddings.projection.weight"],
                 w["spatial.embeddings.patch_embeddings.projection.bias"], stride=(kt, kh, kw))
    b, _, nt, nh, nw = e.shape
    e = e.permute(0, 2, 3, 4, 1).reshape(b * nt, nh * nw, d)  # per time index, row-major tokens
    cls = w["spatial.embeddings.cls_token"].expand(b * nt, 1, d)
    s = torch.cat([cls, e], dim=1) + w["spatial.embeddings.position_embeddings"]
    s = encoder(s, w, "spatial.", cfg["num_hidden_layers"], heads, act, eps)
    z = s[:, 0].reshape(b, nt, d)
    y = torch.cat([w["temporal.cls_token"].expand(b, 1, d), z], dim=1) + w["temporal.position_embeddings"]
    y = encoder(y, w, "temporal.", cfg["num_temporal_layers"], heads, act, eps)
    logits = F.linear(y[:, 0], w["classifier.weight"], w["classifier.bias"])
    return logits, y


def random_weights(cfg, generator, scale=0.2):
    """Every tensor the model needs, normal(0, scale); norm scales around 1."""
    d, m, c = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_channels"]
    kt, kh, kw = cfg["tubelet_size"]
    nt = cfg["num_frames"] // kt
    nhw = (cfg["image_size"] // kh) * (cfg["image_size"] // kw)
    shapes = {
        "spatial.embeddings.cls_token": [1, 1, d],
        "spatial.embeddings.position_embeddings": [1, 1 + nhw, d],
        "spatial.embeddings.patch_embeddings.projection.weight": [d, c, kt, kh, kw],
        "spatial.embeddings.patch_embeddings.projection.bias": [d],
        "temporal.cls_token": [1, 1, d],
        "temporal.position_embeddings": [1, 1 + nt, d],
        "classifier.weight": [len(cfg["id2label"]), d],
        "classifier.bias": [len(cfg["id2label"])],
    }
    for root, layers in (("spatial.", cfg["num_hidden_layers"]), ("temporal.", cfg["num_temporal_layers"])):
        for i in range(layers):
            p = f"{root}encoder.layer.{i}."
            for k in ("query", "key", "value"):
                shapes[p + f"attention.attention.{k}.weight"] = [d, d]
                shapes[p + f"attention.attention.{k}.bias"] = [d]
            shapes[p + "attention.output.dense.weight"] = [d, d]
            shapes[p + "attention.output.dense.bias"] = [d]
            shapes[p + "intermediate.dense.weight"] = [m, d]
            shapes[p + "intermediate.dense.bias"] = [m]
            shapes[p + "output.dense.weight"] = [d, m]
            shapes[p + "output.dense.bias"] = [d]
            for n in ("layernorm_before", "layernorm_after"):
                shapes[p + n + ".weight"] = [d]
                shapes[p + n + ".bias"] = [d]
        shapes[root + "layernorm.weight"] = [d]
        shapes[root + "layernorm.bias"] = [d]
    w = {}
    for k, shape in sorted(shapes.items()):
        t = torch.randn(shape, generator=generator) * scale
        if "layernorm" in k and k.endswith("weight"):
            t = t + 1.0
        w[k] = t.contiguous()
    return w
