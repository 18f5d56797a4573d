#!/usr/bin/env bash
# The PETL_AST seed study at a size this machine trains: pretrain a small AST from scratch on the
# synthetic keyword task, then adapt it to the synthetic environmental-sounds task with every
# method. Prints one table row per method: best validation accuracy, trainable parameters (and %
# of the backbone), seconds per epoch, peak RSS.
#
#   bash Benchmarks/seed-study/run.sh [WORK=~/.cache/kino-seed] [PRETRAIN_EPOCHS=12] [ADAPT_EPOCHS=10] [SHOTS=]
#
# Needs the release binary (make release), tools/.venv (bash tools/setup-reference.sh; only to
# write the random-init AST config and weights) and the datasets (tools/make-seed-datasets.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
KINO=${KINO:-.build/release/kino}
WORK=${WORK:-$HOME/.cache/kino-seed}
DATA=${DATA:-$HOME/.cache/kino-data}
PRETRAIN_EPOCHS=${PRETRAIN_EPOCHS:-12}
ADAPT_EPOCHS=${ADAPT_EPOCHS:-10}
SHOTS=${SHOTS:-}
mkdir -p "$WORK"
[ -d "$DATA/keywords/train" ] || python3 tools/make-seed-datasets.py --out "$DATA" --seed 0 --jobs 2
if [ ! -f "$WORK/init/model.safetensors" ]; then
  tools/.venv/bin/python - "$WORK/init" <<'PY'
import sys, torch
from transformers import ASTConfig, ASTForAudioClassification
torch.manual_seed(0)
c = ASTConfig(hidden_size=96, num_hidden_layers=4, num_attention_heads=4, intermediate_size=192, max_length=100,
              num_mel_bins=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
              id2label={0: "a", 1: "b"}, label2id={"a": 0, "b": 1})
ASTForAudioClassification(c).save_pretrained(sys.argv[1])
PY
fi
if [ ! -f "$WORK/pretrain/model/model.safetensors" ]; then
  rm -rf "$WORK/pretrain"
  nice "$KINO" train --model "$WORK/init" --data "$DATA/keywords/train" --val "$DATA/keywords/val" --method full \
    --lr 1e-3 --weight-decay 0.05 --batch-size 32 --epochs "$PRETRAIN_EPOCHS" --seed 0 -o "$WORK/pretrain" | grep -E "^epoch [0-9]+:|wrote"
fi
train_data="$DATA/sounds/train"
if [ -n "$SHOTS" ]; then   # the first SHOTS files (byte-wise order) of each class
  train_data="$WORK/sounds-$SHOTS-shot"
  rm -rf "$train_data"
  for c in "$DATA/sounds/train"/*/; do
    n=$(basename "$c"); mkdir -p "$train_data/$n"
    ls "$c" | LC_ALL=C sort | head -n "$SHOTS" | while read -r f; do ln -s "$c$f" "$train_data/$n/$f"; done
  done
fi
printf "| method | val accuracy | macro-F1 | trainable | %% of backbone | s/epoch | peak RSS MiB |\n|---|---|---|---|---|---|---|\n"
METHODS=${METHODS:-linear full bitfit lora ia3 houlsby pfeiffer conformer prompt prefix}
for method in $METHODS; do
  run="$WORK/adapt${SHOTS:+-$SHOTS}-$method"
  rm -rf "$run"
  extra=""
  case $method in
    linear) extra="--no-feature-cache" ;;  # the table's linear row augments every step (see the cached-feature row)
    houlsby|pfeiffer|conformer) extra="--reduction 12" ;;  # bottleneck 8 at D = 96, as RR 96 at D = 768
    lora) extra="--rank 8 --alpha 16" ;;
    prompt) extra="--tokens 8" ;;
    prefix) extra="--tokens 8" ;;
  esac
  /usr/bin/time -f "%M" -o "$run.rss" nice "$KINO" train --model "$WORK/pretrain/model" --data "$train_data" \
    --val "$DATA/sounds/val" --method $method $extra --batch-size 16 --epochs "$ADAPT_EPOCHS" --seed 0 -o "$run" > "$run.log" 2>&1 || { echo "| $method | failed: $(tail -1 "$run.log") |"; continue; }
  python3 - "$run" "$method" <<'PY'
import json, sys, re
run, method = sys.argv[1], sys.argv[2]
m = json.load(open(run + "/metrics.json"))["epochs"]
best = max(m, key=lambda e: e["val_accuracy"])
secs = sorted(e["seconds"] for e in m)[len(m) // 2]
log = open(run + ".log").read()
t = re.search(r"trainable ([\d,]+) of [\d,]+ \(([\d.]+)%\)", log)
rss = int(open(run + ".rss").read().split()[-1]) / 1024
print(f"| {method} | {best['val_accuracy']:.3f} | {best['val_macro_f1']:.3f} | {t.group(1)} | {t.group(2)} | {secs:.1f} | {rss:.0f} |")
PY
done
