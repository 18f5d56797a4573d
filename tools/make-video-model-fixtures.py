"""Writes the KinoModels parity fixtures of the VideoMAE and TimeSformer video classifiers.

Each folder Tests/KinoModelsTests/Fixtures/<name>/ holds config.json + model.safetensors
(save_pretrained) and reference.safetensors with pixel_values [B, T, C, H, W], logits and the
backbone's last_hidden_state (VideoMAE: after videomae.layernorm when use_mean_pooling is false,
the raw encoder output when it is true; TimeSformer: after timesformer.layernorm), and `pooled`,
the vector the classifier reads (VideoMAE: fc_norm of the token mean, or token 0; TimeSformer:
the CLS token). VideoMAE fixtures also store `position_embeddings`, the fixed sinusoid table.
Weights are re-drawn with std 0.2 as in make-model-fixtures.py (norm scales around 1).

  videomae-a       use_mean_pooling true (fc_norm, eps 1e-5), batch 2, 4 heads, 24² patch 8, tubelet 2
  videomae-b       use_mean_pooling false (videomae.layernorm then token 0), gelu_new, eps 1e-6, 32²,
                   plus a preprocessor_config.json (VideoMAEImageProcessor, shortest_edge 36,
                   crop 32, ImageNet mean/std) and the pixel values it gives for a test image
  videomae-c       qkv_bias false (no q_bias/v_bias), tubelet 1, 3 frames
  timesformer-a    divided space-time attention, batch 2, 4 heads, 4 frames, 24² patch 8
  timesformer-b    qkv_bias false, 6 heads, 3 frames, 32² patch 16, gelu_new, eps 1e-12

Gradient goldens: tools/make-grad-fixtures.py videomae-a videomae-b videomae-c timesformer-a timesformer-b

Command (torch 2.5.1, transformers 4.46.3; the venv comes from `bash tools/setup-reference.sh`):
    tools/.venv/bin/python tools/make-video-model-fixtures.py
"""
import os
import shutil

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import (TimesformerConfig, TimesformerForVideoClassification, VideoMAEConfig,
                          VideoMAEForVideoClassification, VideoMAEImageProcessor)

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "KinoModelsTests", "Fixtures")
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def labels(n):
    return {"id2label": {str(i): f"class_{i}" for i in range(n)}, "label2id": {f"class_{i}": i for i in range(n)}}


def randomise(model, seed):
    """std 0.2 everywhere; layer-norm scales (layernorm*, fc_norm) around 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            t = torch.randn(p.shape, generator=g) * 0.2
            if ("layernorm" in name or "fc_norm" in name) and name.endswith("weight"):
                t += 1.0
            p.copy_(t)


def write(name, model, tensors):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    save_file({k: v.detach().clone().contiguous() for k, v in tensors.items()}, os.path.join(folder, "reference.safetensors"))
    return folder


def test_image(seed):
    """The 37×29 test picture of make-model-fixtures.py's preprocessing fixture (smooth, light noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:29, 0:37]
    image = np.stack([(xx * 7 + yy * 3) % 256, (yy * 9) % 256, (xx * yy) % 256], axis=-1)
    return np.clip(image + rng.integers(-8, 9, image.shape), 0, 255).astype(np.uint8)


def videomae(name, seed, batch=1, processor=None, **cfg):
    torch.manual_seed(seed)
    config = VideoMAEConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **cfg)
    model = VideoMAEForVideoClassification(config).eval()
    randomise(model, seed)
    x = torch.randn(batch, config.num_frames, config.num_channels, config.image_size, config.image_size)
    with torch.no_grad():
        hidden = model.videomae(pixel_values=x).last_hidden_state
        pooled = model.fc_norm(hidden.mean(1)) if model.fc_norm is not None else hidden[:, 0]
        out = {"pixel_values": x, "logits": model(pixel_values=x).logits, "last_hidden_state": hidden,
               "pooled": pooled, "position_embeddings": model.videomae.embeddings.position_embeddings}
    extra = {}
    if processor is not None:
        image = test_image(12)
        extra = {"image": torch.from_numpy(image.astype(np.float32)),
                 "processed_pixel_values": processor([[image, image]], return_tensors="pt").pixel_values}
    folder = write(name, model, {**out, **extra})
    if processor is not None:
        processor.save_pretrained(folder)


def timesformer(name, seed, batch=1, **cfg):
    torch.manual_seed(seed)
    config = TimesformerConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **cfg)
    model = TimesformerForVideoClassification(config).eval()
    randomise(model, seed)
    x = torch.randn(batch, config.num_frames, config.num_channels, config.image_size, config.image_size)
    with torch.no_grad():
        hidden = model.timesformer(pixel_values=x).last_hidden_state
        out = {"pixel_values": x, "logits": model(pixel_values=x).logits, "last_hidden_state": hidden,
               "pooled": hidden[:, 0]}
    write(name, model, out)


def main():
    torch.set_num_threads(1)
    videomae("videomae-a", 41, batch=2, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=64, image_size=24, patch_size=8, num_frames=4, tubelet_size=2,
             use_mean_pooling=True, **labels(3))
    processor = VideoMAEImageProcessor(size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32},
                                       image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    videomae("videomae-b", 42, hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=48,
             image_size=32, patch_size=8, num_frames=4, tubelet_size=2, use_mean_pooling=False,
             hidden_act="gelu_new", layer_norm_eps=1e-6, processor=processor, **labels(3))
    videomae("videomae-c", 43, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48,
             image_size=16, patch_size=8, num_frames=3, tubelet_size=1, qkv_bias=False, **labels(4))
    timesformer("timesformer-a", 44, batch=2, hidden_size=24, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=48, image_size=24, patch_size=8, num_frames=4, **labels(3))
    timesformer("timesformer-b", 45, hidden_size=24, num_hidden_layers=1, num_attention_heads=6, intermediate_size=48,
                image_size=32, patch_size=16, num_frames=3, qkv_bias=False, hidden_act="gelu_new",
                layer_norm_eps=1e-12, **labels(5))
    for name in ("videomae-a", "videomae-b", "videomae-c", "timesformer-a", "timesformer-b"):
        folder = os.path.join(ROOT, name)
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        print(f"{name}: {size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
