#!/usr/bin/env bash
# CCT's claim ("Escaping the Big Data Paradigm with Compact Transformers"): a compact convolutional
# transformer beats a plain ViT of similar size trained from scratch on small data. Both trained here
# with the same kino train recipe on the same synthetic sound set (tools/make-default-sounds.py), at
# all data and at 10 % of it (for the same number of optimiser steps: 10x the epochs, so the small
# run is not cut short by the 200 warm-up steps); prints held-out test accuracy (kino model eval),
# parameters, s/epoch.
#
#   bash Benchmarks/cct-vs-vit/run.sh     [WORK=~/.cache/kino-cct-vs-vit] [EPOCHS=20] [DATA=~/.cache/kino-data/defaults]
set -euo pipefail
cd "$(dirname "$0")/../.."
KINO=${KINO:-.build/release/kino}
WORK=${WORK:-$HOME/.cache/kino-cct-vs-vit}
DATA=${DATA:-$HOME/.cache/kino-data/defaults}/sounds
EPOCHS=${EPOCHS:-20}
mkdir -p "$WORK"
# 10 %: the first 40 files (byte-wise) of each label (sed, not head: head would end the pipe early and pipefail stop the script).
small="$WORK/train-10pct"
if [ ! -d "$small" ]; then
  for c in "$DATA/train"/*/; do n=$(basename "$c"); mkdir -p "$small/$n"
    ls "$c" | LC_ALL=C sort | sed -n 1,40p | while read -r f; do ln -s "$c$f" "$small/$n/$f"; done; done
fi
printf "| model | data | test accuracy | macro-F1 | parameters | s/epoch |\n|---|---|---|---|---|---|\n"
for model in cct vit; do
  config=tools/recipes/kino-sounds.json; [ $model = vit ] && config=Benchmarks/cct-vs-vit/vit-audio.json
  [ -d "$WORK/$model-init" ] || "$KINO" model init "$config" --seed 0 -o "$WORK/$model-init" > /dev/null
  for part in all 10pct; do
    train="$DATA/train"; epochs=$EPOCHS
    [ $part = 10pct ] && { train="$small"; epochs=$((EPOCHS * 10)); }
    run="$WORK/$model-$part"
    [ -f "$run/done" ] || { rm -rf "$run"; nice "$KINO" train --model "$WORK/$model-init" --data "$train" --val "$DATA/val" --method full \
      --lr 1e-3 --weight-decay 0.05 --warmup 200 --batch-size 32 --epochs "$epochs" --seed 0 -o "$run" > "$run.log" 2>&1 && touch "$run/done"; }
    "$KINO" model eval --model "$run/model" --data "$DATA/test" --json > "$run.eval.json"
    python3 - "$run" "$model" "$part" <<'PY'
import json, sys, re
run, model, part = sys.argv[1:]
e = json.load(open(run + ".eval.json")); m = json.load(open(run + "/metrics.json"))["epochs"]
secs = sorted(x["seconds"] for x in m)[len(m) // 2]
params = re.search(r"trainable ([\d,]+)", open(run + ".log").read()).group(1)
print(f"| {model} | {part} | {e['val_accuracy']:.3f} | {e['val_macro_f1']:.3f} | {params} | {secs:.0f} |")
PY
  done
done
