"""Writes the KinoModels parity fixtures: tiny random-weight HF models with inputs and outputs.

Each fixture folder Tests/KinoModelsTests/Fixtures/<name>/ holds config.json + model.safetensors
(save_pretrained, legacy key names) and reference.safetensors with the input (pixel_values or
input_values) and the reference outputs (logits, last_hidden_state, pooler_output when defined).
Weights are re-drawn with std 0.2 (HF's 0.02 init makes every layer nearly the identity, which
would hide indexing mistakes). The ViViT factorised encoder has no HF class; its reference is
tools/vivit_fe_reference.py.

Command (transformers 4.46.3, torch 2.5.1; the venv comes from `bash tools/setup-reference.sh`):
    tools/.venv/bin/python tools/make-model-fixtures.py
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import (ASTConfig, ASTForAudioClassification, ViTConfig, ViTForImageClassification, ViTModel,
                          VivitConfig, VivitForVideoClassification)

sys.path.insert(0, os.path.dirname(__file__))
import vivit_fe_reference as fe  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "KinoModelsTests", "Fixtures")


def labels(n):
    return {"id2label": {str(i): f"class_{i}" for i in range(n)}, "label2id": {f"class_{i}": i for i in range(n)}}


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            t = torch.randn(p.shape, generator=g) * 0.2
            if "layernorm" in name and name.endswith("weight"):
                t += 1.0
            p.copy_(t)


def write(name, model, inputs, outputs):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    save_file({k: v.detach().contiguous() for k, v in {**inputs, **outputs}.items()},
              os.path.join(folder, "reference.safetensors"))


def run(model, key, x, **kw):
    model.eval()
    with torch.no_grad():
        out = model(**{key: x}, **kw)
    result = {"last_hidden_state": out.hidden_states[-1] if getattr(out, "last_hidden_state", None) is None
              else out.last_hidden_state}
    if getattr(out, "logits", None) is not None:
        result["logits"] = out.logits
    if getattr(out, "pooler_output", None) is not None:
        result["pooler_output"] = out.pooler_output
    return result


def final_hidden(model, base, key, x):
    """last_hidden_state of the backbone inside a task model (after the final norm)."""
    with torch.no_grad():
        return getattr(model, base)(**{key: x}).last_hidden_state


def vit(name, seed, classify=True, batch=2, interpolate_to=None, **cfg):
    torch.manual_seed(seed)
    config = ViTConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **cfg)
    model = (ViTForImageClassification if classify else ViTModel)(config)
    randomise(model, seed)
    x = torch.randn(batch, config.num_channels, config.image_size, config.image_size)
    out = run(model, "pixel_values", x) if not classify else {
        "logits": model(pixel_values=x).logits.detach(), "last_hidden_state": final_hidden(model, "vit", "pixel_values", x)}
    inputs = {"pixel_values": x}
    if interpolate_to:
        h, w = interpolate_to
        y = torch.randn(1, config.num_channels, h, w)
        with torch.no_grad():
            o = model(pixel_values=y, interpolate_pos_encoding=True)
            inputs["pixel_values_interpolated"] = y
            out["logits_interpolated"] = o.logits
            out["last_hidden_state_interpolated"] = model.vit(pixel_values=y, interpolate_pos_encoding=True).last_hidden_state
    write(name, model, inputs, out)


def vivit(name, seed, batch=1, **cfg):
    torch.manual_seed(seed)
    config = VivitConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **cfg)
    model = VivitForVideoClassification(config).eval()
    randomise(model, seed)
    x = torch.randn(batch, config.num_frames, config.num_channels, config.image_size, config.image_size)
    with torch.no_grad():
        out = {"logits": model(pixel_values=x).logits, "last_hidden_state": final_hidden(model, "vivit", "pixel_values", x)}
    write(name, model, {"pixel_values": x}, out)


def ast(name, seed, batch=2, **cfg):
    torch.manual_seed(seed)
    config = ASTConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **cfg)
    model = ASTForAudioClassification(config).eval()
    randomise(model, seed)
    x = torch.randn(batch, config.max_length, config.num_mel_bins)
    with torch.no_grad():
        out = {"logits": model(input_values=x).logits,
               "last_hidden_state": final_hidden(model, "audio_spectrogram_transformer", "input_values", x)}
    write(name, model, {"input_values": x}, out)


def factorised(name, seed, batch=1, **cfg):
    cfg = {"model_type": "vivit-factorised-encoder", "architectures": ["ViViTFactorisedEncoder"],
           "num_channels": 3, "qkv_bias": True, **cfg}
    g = torch.Generator().manual_seed(seed)
    w = fe.random_weights(cfg, g)
    x = torch.randn(batch, cfg["num_frames"], 3, cfg["image_size"], cfg["image_size"], generator=g)
    with torch.no_grad():
        logits, hidden = fe.forward(x, w, cfg)
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    save_file(w, os.path.join(folder, "model.safetensors"))
    save_file({"pixel_values": x, "logits": logits, "last_hidden_state": hidden},
              os.path.join(folder, "reference.safetensors"))


def preprocessing(name, seed):
    """A random 8-bit image (37×29) through ViTImageProcessor (32×32) and VivitImageProcessor
    (shortest_edge 36, crop 32, today's [−3, 1] scaling)."""
    import numpy as np
    from transformers import ViTImageProcessor, VivitImageProcessor
    rng = np.random.default_rng(seed)
    # Smooth content so resampling differences stay in the last bit, as in real pictures.
    yy, xx = np.mgrid[0:29, 0:37]
    image = np.stack([(xx * 7 + yy * 3) % 256, (yy * 9) % 256, (xx * yy) % 256], axis=-1)
    image = np.clip(image + rng.integers(-8, 9, image.shape), 0, 255).astype(np.uint8)
    vit = ViTImageProcessor(size={"height": 32, "width": 32})(images=image, return_tensors="pt").pixel_values
    vivit = VivitImageProcessor(size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32})(
        [[image, image]], return_tensors="pt").pixel_values
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    save_file({"image": torch.from_numpy(image.astype(np.float32)), "vit_pixel_values": vit,
               "vivit_hf_pixel_values": vivit}, os.path.join(folder, "reference.safetensors"))


def main():
    torch.set_num_threads(1)
    vit("vit-a", 1, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        image_size=32, patch_size=8, interpolate_to=(40, 48), **labels(5))
    vit("vit-b", 2, hidden_size=48, num_hidden_layers=1, num_attention_heads=3, intermediate_size=96,
        image_size=24, patch_size=6, hidden_act="gelu_new", layer_norm_eps=1e-6, **labels(7))
    vit("vit-c-backbone", 3, classify=False, hidden_size=64, num_hidden_layers=2, num_attention_heads=8,
        intermediate_size=128, image_size=32, patch_size=16, num_channels=1, batch=3)
    vivit("vivit-a", 4, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
          image_size=32, num_frames=8, tubelet_size=[2, 8, 8], **labels(6))
    vivit("vivit-b", 5, hidden_size=48, num_hidden_layers=1, num_attention_heads=6, intermediate_size=80,
          image_size=24, num_frames=4, tubelet_size=[1, 12, 12], batch=2, **labels(3))
    vivit("vivit-c", 6, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48,
          image_size=16, num_frames=6, tubelet_size=[3, 4, 8], hidden_act="gelu", layer_norm_eps=1e-12, **labels(4))
    ast("ast-a", 7, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_length=64, num_mel_bins=32, patch_size=16, frequency_stride=10, time_stride=10, **labels(5))
    ast("ast-b", 8, hidden_size=48, num_hidden_layers=1, num_attention_heads=3, intermediate_size=96,
        max_length=100, num_mel_bins=24, patch_size=8, frequency_stride=4, time_stride=6, batch=1, **labels(9))
    ast("ast-c", 9, hidden_size=64, num_hidden_layers=2, num_attention_heads=8, intermediate_size=128,
        max_length=48, num_mel_bins=16, patch_size=16, frequency_stride=16, time_stride=16, **labels(3))
    factorised("fe-a", 10, hidden_size=32, num_attention_heads=4, intermediate_size=64, hidden_act="gelu_fast",
               layer_norm_eps=1e-6, num_hidden_layers=2, num_temporal_layers=1, image_size=32, num_frames=8,
               tubelet_size=[2, 8, 8], **labels(5))
    factorised("fe-b", 11, batch=2, hidden_size=48, num_attention_heads=6, intermediate_size=96, hidden_act="gelu",
               layer_norm_eps=1e-12, num_hidden_layers=1, num_temporal_layers=2, image_size=24, num_frames=6,
               tubelet_size=[3, 12, 12], **labels(4))
    preprocessing("preprocessing", 12)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"fixtures: {total / 1e6:.2f} MB in {ROOT}")


if __name__ == "__main__":
    main()
