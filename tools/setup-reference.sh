#!/usr/bin/env bash
# Creates tools/.venv with the Python reference for KinoDSP's fbank fixtures and benchmark:
# torch + torchaudio (whose torchaudio.compliance.kaldi.fbank is the reference) and transformers
# (ASTFeatureExtractor), matplotlib (colour-map tables), peft (adapter interop), scikit-learn (metric references). torchaudio 2.9 reworked the package, so the 2.5 pair is pinned.
#
# Usage: bash tools/setup-reference.sh          (idempotent; re-run after deleting tools/.venv)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet \
    torch==2.5.1 torchaudio==2.5.1 transformers==4.46.3 numpy==1.26.4 matplotlib==3.9.2 \
    peft==0.13.2 scikit-learn==1.5.2 safetensors==0.4.5
.venv/bin/python -c 'import torch, torchaudio, transformers, numpy
from torchaudio.compliance import kaldi
from transformers import ASTFeatureExtractor
print("torch", torch.__version__, "torchaudio", torchaudio.__version__,
      "transformers", transformers.__version__, "numpy", numpy.__version__)'
