"""Loads a PEFT adapter folder (one Kino wrote, or a fixture) with Hugging Face PEFT and writes its logits.

    python tools/check-kino-adapter.py --base BASE_DIR --adapter ADAPTER_DIR --input INPUT.safetensors \
        --out OUT.safetensors [--merged MERGED_DIR]

BASE_DIR is a transformers model folder (config.json + model.safetensors); its class comes from config.json
`architectures` (ASTForAudioClassification, ViTForImageClassification, ...). The adapter is attached with
`PeftModel.from_pretrained(model, ADAPTER_DIR)`, the model is put in eval mode and run on the tensor of INPUT that
the model expects (`model.main_input_name`: input_values for AST, pixel_values for ViT/ViViT); OUT gets `logits`.
With --merged, MERGED_DIR is loaded as a plain transformers model and OUT also gets `merged_logits`.

Exits non-zero when PEFT did not consume the file the way it should, which PEFT itself mostly only warns about or
does silently (a legacy-named adapter with v5 target_modules loads "fine" and leaves lora_B = 0):
  - the file has tensors that match no parameter of the adapted model (unexpected keys),
  - an adapter parameter of the model got no tensor from the file (missing adapter keys),
  - a lora_B is all zeros or an ia3_l all ones after loading (PEFT's init values: nothing was loaded),
  - a modules_to_save copy is identical to the module it wraps (the saved head was not loaded).
When INPUT also holds `logits` (the fixtures' reference.safetensors), max |Δ| against them is printed.

Runs under either venv: tools/.venv (transformers 4.46.3, peft 0.13.2) or tools/.venv5 (transformers 5.24.0,
peft 0.21.2); an adapter only loads under the transformers generation whose module names it uses, and peft 0.13.2
rejects adapter_config.json keys it does not know (peft_version, exclude_modules, ... -> TypeError). Example:
    tools/.venv/bin/python tools/check-kino-adapter.py --base Tests/KinoModelsTests/Fixtures/vit-a \
        --adapter Tests/KinoModelsTests/Fixtures/adapters/vit-lora-v4 \
        --input Tests/KinoModelsTests/Fixtures/adapters/vit-lora-v4/reference.safetensors --out /tmp/out.safetensors \
        --merged Tests/KinoModelsTests/Fixtures/adapters/vit-lora-v4-merged
"""
import argparse
import json
import os
import sys
import warnings

import peft
import torch
import transformers
from peft import PeftModel
from peft.utils import ModulesToSaveWrapper, load_peft_weights, set_peft_model_state_dict
from safetensors.torch import load_file, save_file

AUTO = [("ForAudioClassification", "AutoModelForAudioClassification"),
        ("ForImageClassification", "AutoModelForImageClassification"),
        ("ForVideoClassification", "AutoModelForVideoClassification")]


def load_model(folder, num_labels=None):
    with open(os.path.join(folder, "config.json")) as f:
        arch = (json.load(f).get("architectures") or ["AutoModel"])[0]
    name = next((auto for suffix, auto in AUTO if arch.endswith(suffix)), None)
    cls = getattr(transformers, name) if name else getattr(transformers, arch, transformers.AutoModel)
    if num_labels:  # a new head of another size (kino train): the base's head is replaced, as PEFT users do
        return cls.from_pretrained(folder, num_labels=num_labels, ignore_mismatched_sizes=True).eval()
    return cls.from_pretrained(folder).eval()


def run(model, key, x):
    with torch.no_grad():
        return model(**{key: x}).logits.contiguous()


def main():
    transformers.utils.logging.disable_progress_bar()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--merged")
    ap.add_argument("--num-labels", type=int, help="load the base with a head of this size (the adapter's new head)")
    args = ap.parse_args()
    print(f"transformers {transformers.__version__}, peft {peft.__version__}, torch {torch.__version__}")

    problems = []
    model = load_model(args.base, args.num_labels)
    key = model.main_input_name
    inputs = load_file(args.input)
    if key not in inputs:
        sys.exit(f"error: {args.input} has no tensor `{key}` (has {sorted(inputs)})")
    x = inputs[key]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = PeftModel.from_pretrained(model, args.adapter)
        except Exception as e:  # e.g. target_modules of the other transformers generation
            sys.exit(f"error: PeftModel.from_pretrained failed: {type(e).__name__}: {e}")
    for w in caught:
        if issubclass(w.category, (FutureWarning, DeprecationWarning)):
            continue
        print(f"warning from loading: {w.category.__name__}: {w.message}")
        if "unexpected" in str(w.message).lower() or "missing" in str(w.message).lower():
            problems.append(f"PEFT warned: {w.message}")
    model.eval()
    adapter = model.active_adapter
    config = model.peft_config[adapter]
    peft_type = getattr(config.peft_type, "value", config.peft_type)
    print(f"loaded peft_type {peft_type}, target_modules {config.target_modules!r}, "
          f"modules_to_save {config.modules_to_save!r}")

    # Load the same tensors once more to get PEFT's load_state_dict result (from_pretrained discards it in 0.13).
    weights = load_peft_weights(args.adapter)
    result = set_peft_model_state_dict(model, weights, adapter_name=adapter)
    unexpected = list(result.unexpected_keys)
    missing = [k for k in result.missing_keys if f".{adapter}." in k or k.endswith(f".{adapter}")]
    print(f"adapter file: {len(weights)} tensors; unexpected keys {len(unexpected)}, missing adapter keys "
          f"{len(missing)}")
    for k in unexpected:
        print(f"  unexpected: {k}")
    for k in missing:
        print(f"  missing: {k}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys")
    if missing:
        problems.append(f"{len(missing)} adapter parameters got no tensor")

    for name, p in model.named_parameters():
        if "lora_B" in name and not p.detach().any():
            problems.append(f"{name} is all zeros after loading")
        if "ia3_l" in name and bool((p.detach() == 1).all()):
            problems.append(f"{name} is all ones after loading")
    for name, m in model.named_modules():
        if isinstance(m, ModulesToSaveWrapper) and adapter in m.modules_to_save:
            copy, orig = m.modules_to_save[adapter].state_dict(), m.original_module.state_dict()
            if copy.keys() == orig.keys() and all(torch.equal(copy[k], orig[k]) for k in copy):
                problems.append(f"{name}: modules_to_save copy equals the base module (saved head not loaded)")

    out = {"logits": run(model, key, x)}
    print(f"logits {tuple(out['logits'].shape)}")
    if "logits" in inputs:
        print(f"max|logits - input file's logits| = {(out['logits'] - inputs['logits']).abs().max().item():.3e}")
    if args.merged:
        out["merged_logits"] = run(load_model(args.merged), key, x)
        print(f"max|logits - merged_logits| = {(out['logits'] - out['merged_logits']).abs().max().item():.3e}")
    save_file(out, args.out)
    print(f"wrote {args.out}: {sorted(out)}")

    if problems:
        for p in problems:
            print(f"FAIL: {p}", file=sys.stderr)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
