"""Writes the PEFT interop fixtures: Hugging Face PEFT adapters (LoRA, rsLoRA, IA3) for two tiny models.

For the base fixtures ast-a (ASTForAudioClassification) and vit-a (ViTForImageClassification) this writes, under
Tests/KinoModelsTests/Fixtures/adapters/, folders made by PEFT's own `save_pretrained` (adapter_config.json +
adapter_model.safetensors; the README.md model card PEFT also writes is dropped) plus reference.safetensors with the
base fixture's input (`input_values` [B,T,F] / `pixel_values` [B,C,H,W]) and the adapted model's `logits`:

    <model>-lora-<gen>      LoRA on query+value (v5: q_proj, v_proj), r 4, alpha 8, head in modules_to_save
    <model>-ia3-<gen>       IA3 on key, value and the FFN output dense (v5: k_proj, v_proj, mlp.fc2), the FFN
                            output dense as feed-forward module; head in modules_to_save
    ast-rslora-v4           as ast-lora-v4 with use_rslora (scale alpha/sqrt(r) = 4 instead of alpha/r = 2)
    vit-lora-all-v4         LoRA on all six encoder linears of every layer
    vit-lora-v4-merged      vit-lora-v4 after merge_and_unload(): a plain ViT folder (config.json, model.safetensors)

<gen> is v4 (transformers 4.x module names, `encoder.layer.i.attention.attention.query`) or v5 (transformers 5.x
in-memory names, `layers.i.attention.q_proj`, see specs/adapters-family.md §0 and §9); the script writes the
folders of the generation of the transformers it runs under. All adapter weights are re-drawn (LoRA A and B with
std 0.2, IA3 vectors 1 + 0.3·randn, the head copy with std 0.2 like the base fixtures) so that both the adapter and
the head change the logits; PEFT's own init (B = 0, l = 1) would make a broken reader look right.

IA3 targets are regular expressions (PEFT re.fullmatch's a str target against the module path) because a list entry
"output.dense" suffix-matches attention.output.dense too, and IA3's feedforward_modules list match is a bare
endswith, which would make the attention output projection feed-forward as well (spec §9 pitfall).

Commands (two venvs, both git-ignored):
    tools/.venv/bin/python tools/make-adapter-fixtures.py    # transformers 4.46.3, peft 0.13.2, torch 2.5.1
    tools/.venv5/bin/python tools/make-adapter-fixtures.py   # transformers 5.24.0, peft 0.21.2, torch 2.15.0,
                                                             # safetensors 0.8.0, numpy 2.4.6 (Python 3.11)
tools/.venv5: `python3 -m venv tools/.venv5 && tools/.venv5/bin/pip install torch==2.15.0 transformers==5.24.0
peft==0.21.2 safetensors` (5.25.0 needs kernels>=0.19.1, which PyPI does not serve for it; PyPI has no CPU-only
torch, so this is the default CUDA wheel). The script re-executes itself with PYTHONHASHSEED=0 so the target_modules
order PEFT writes (from a set) is stable; two runs give byte-identical files.
Check with tools/check-kino-adapter.py (loads any folder with PeftModel.from_pretrained).
"""
import os
import shutil
import sys

if os.environ.get("PYTHONHASHSEED") != "0":  # PEFT keeps target_modules in a set: fix its order in the JSON
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch
import transformers
from peft import IA3Config, LoraConfig, get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer
from safetensors.torch import load_file, save_file
from transformers import AutoModelForAudioClassification, AutoModelForImageClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "KinoModelsTests", "Fixtures")
OUT = os.path.join(FIXTURES, "adapters")
GEN = "v5" if int(transformers.__version__.split(".")[0]) >= 5 else "v4"

# model -> (base fixture, Auto class, input name, backbone attribute)
MODELS = {
    "ast": ("ast-a", AutoModelForAudioClassification, "input_values", "audio_spectrogram_transformer"),
    "vit": ("vit-a", AutoModelForImageClassification, "pixel_values", "vit"),
}

# Module paths per generation (full names as PEFT sees them, relative to the task model).
LAYER = r".*\.encoder\.layer\.\d+\." if GEN == "v4" else r".*\.layers\.\d+\."
NAMES = {
    "v4": {"q": "attention.attention.query", "k": "attention.attention.key", "v": "attention.attention.value",
           "o": "attention.output.dense", "fc1": "intermediate.dense", "fc2": "output.dense"},
    "v5": {"q": "attention.q_proj", "k": "attention.k_proj", "v": "attention.v_proj",
           "o": "attention.o_proj", "fc1": "mlp.fc1", "fc2": "mlp.fc2"},
}[GEN]


def alternatives(*keys):
    return "(" + "|".join(NAMES[k].replace(".", r"\.") for k in keys) + ")"


def load_base(model):
    fixture, auto, key, _ = MODELS[model]
    folder = os.path.join(FIXTURES, fixture)
    base = auto.from_pretrained(folder).eval()
    ref = load_file(os.path.join(folder, "reference.safetensors"))
    x = ref[key]
    with torch.no_grad():
        logits = base(**{key: x}).logits
    # The v5 loader renames the legacy checkpoint keys; make sure it reproduced the base fixture.
    err = (logits - ref["logits"]).abs().max().item()
    assert err < 1e-4, f"{fixture}: base logits differ from reference.safetensors by {err}"
    return base, x, logits


def randomise(peft_model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "ia3_l" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif "lora_A" in name or "lora_B" in name or "modules_to_save" in name:
                t = 0.2 * torch.randn(p.shape, generator=g)
                if "layernorm" in name and name.endswith("weight"):
                    t += 1.0
                p.copy_(t)


def logits_of(m, key, x):
    with torch.no_grad():
        return m(**{key: x}).logits


def tuner_layers_enabled(peft_model, enabled):
    for m in peft_model.modules():
        if isinstance(m, BaseTunerLayer):
            m.enable_adapters(enabled)


def write(name, model, config, seed, merge=False):
    fixture, _, key, _ = MODELS[model]
    base, x, base_logits = load_base(model)
    peft_model = get_peft_model(base, config)
    randomise(peft_model, seed)
    peft_model.eval()
    logits = logits_of(peft_model, key, x)
    tuner_layers_enabled(peft_model, False)  # head copy only: shows the adapter itself matters
    head_only = logits_of(peft_model, key, x)
    tuner_layers_enabled(peft_model, True)
    assert torch.equal(logits_of(peft_model, key, x), logits)

    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    peft_model.peft_config["default"].base_model_name_or_path = f"Tests/KinoModelsTests/Fixtures/{fixture}"
    peft_model.save_pretrained(folder)
    if os.path.exists(os.path.join(folder, "README.md")):
        os.remove(os.path.join(folder, "README.md"))
    save_file({key: x.contiguous(), "logits": logits.contiguous()}, os.path.join(folder, "reference.safetensors"))
    print(f"{name}: {config.peft_type.value if hasattr(config.peft_type, 'value') else config.peft_type}, "
          f"max|logits - base| = {(logits - base_logits).abs().max().item():.4f}, "
          f"max|logits - head-only| = {(logits - head_only).abs().max().item():.4f}")

    if merge:
        merged = peft_model.merge_and_unload().eval()
        merged_logits = logits_of(merged, key, x)
        mfolder = folder + "-merged"
        shutil.rmtree(mfolder, ignore_errors=True)
        merged.save_pretrained(mfolder, safe_serialization=True)
        save_file({key: x.contiguous(), "logits": merged_logits.contiguous()},
                  os.path.join(mfolder, "reference.safetensors"))
        print(f"{name}-merged: max|merged - adapter logits| = {(merged_logits - logits).abs().max().item():.2e}")


def lora(**kw):
    return LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, modules_to_save=["classifier"], **kw)


def ia3():
    return IA3Config(target_modules=LAYER + alternatives("k", "v", "fc2"),
                     feedforward_modules=LAYER + alternatives("fc2"), modules_to_save=["classifier"])


def main():
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    qv = [NAMES["q"].split(".")[-1], NAMES["v"].split(".")[-1]]  # ["query", "value"] / ["q_proj", "v_proj"]
    gen_seed = 0 if GEN == "v4" else 100
    write(f"ast-lora-{GEN}", "ast", lora(target_modules=qv), 1 + gen_seed)
    write(f"vit-lora-{GEN}", "vit", lora(target_modules=qv), 2 + gen_seed, merge=GEN == "v4")
    write(f"ast-ia3-{GEN}", "ast", ia3(), 3 + gen_seed)
    write(f"vit-ia3-{GEN}", "vit", ia3(), 4 + gen_seed)
    if GEN == "v4":
        write("ast-rslora-v4", "ast", lora(target_modules=qv, use_rslora=True), 5)
        # A list is fine here: "output.dense" suffix-matches both attention.output.dense and the FFN output.dense,
        # and LoRA wants both; each module is wrapped once.
        write("vit-lora-all-v4", "vit", lora(target_modules=["query", "key", "value", "attention.output.dense",
                                                             "intermediate.dense", "output.dense"]), 6)
    import peft
    print(f"generation {GEN}: transformers {transformers.__version__}, peft {peft.__version__}, "
          f"torch {torch.__version__}")
    for d in sorted(os.listdir(OUT)):
        if d.endswith(GEN) or d.endswith(GEN + "-merged"):
            files = sorted(os.listdir(os.path.join(OUT, d)))
            print(f"  {d}: " + ", ".join(f"{f} {os.path.getsize(os.path.join(OUT, d, f))}" for f in files))


if __name__ == "__main__":
    main()
