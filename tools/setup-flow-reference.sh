#!/usr/bin/env bash
# Creates tools/.venv-flow with the optical-flow reference (OpenCV DIS) and its helpers.
# Used by tools/make-flow-fixtures.py and Benchmarks/flow_bench.py. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv-flow
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q "opencv-python-headless==5.0.0.93" numpy
# Real photographs for textures (optional: fixtures fall back to samples/still.png).
"$VENV/bin/pip" install -q scikit-image || echo "scikit-image unavailable; using samples/still.png"
"$VENV/bin/python" -c "import cv2, numpy; print('opencv', cv2.__version__, 'numpy', numpy.__version__)"
