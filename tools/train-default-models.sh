#!/usr/bin/env bash
# Retrains Kino's shipped default models from nothing (`make models`): generates the synthetic
# data (tools/make-default-sounds.py; tools/make-default-datasets.py for motion), initialises each compact model from its recipe in
# tools/recipes/, trains it with `kino train --method full`, scores it on the held-out test split
# (`kino model eval`) and copies the best epoch to models/<name>/.
#
#   bash tools/train-default-models.sh                 # both models
#   MODELS=sounds bash tools/train-default-models.sh   # one of them
#
# Resumable: the runs live in $WORK (default ~/.cache/kino-train/); run it again after an
# interruption and each model continues from its newest checkpoint. Runs niced, two worker
# threads (one BLAS thread each). A model ships only when its held-out accuracy reaches
# MIN_ACCURACY (0.9). Environment: KINO (binary), DATA, WORK, MODELS, EPOCHS_SOUNDS, EPOCHS_MOTION,
# SEED, MIN_ACCURACY.
set -euo pipefail
cd "$(dirname "$0")/.."
KINO=${KINO:-.build/release/kino}
DATA=${DATA:-$HOME/.cache/kino-data/defaults}
WORK=${WORK:-$HOME/.cache/kino-train}
MODELS=${MODELS:-sounds motion}
SEED=${SEED:-0}
[ -x "$KINO" ] || make release
mkdir -p "$WORK"
for m in $MODELS; do
  if [ ! -d "$DATA/$m/train" ]; then
    case $m in
      sounds) python3 tools/make-default-sounds.py --out "$DATA" --seed "$SEED" --jobs 2 ;;
      motion) if [ ! -x tools/.venv-data/bin/python ]; then
                python3 -m venv tools/.venv-data
                tools/.venv-data/bin/pip install --quiet numpy==1.26.4 pillow==10.4.0 scikit-image==0.24.0 scikit-learn==1.5.2
              fi
              tools/.venv-data/bin/python tools/make-default-datasets.py --out "$DATA" --seed "$SEED" --jobs 2 --tasks motion ;;
    esac
  fi
done
for m in $MODELS; do
  name=kino-$m
  run=$WORK/$name/run
  case $m in
    sounds) epochs=${EPOCHS_SOUNDS:-40}; extra="" ;;
    # A mirror turns pan-left into pan-right, upside down tilt-up into tilt-down, playing backwards
    # swaps all three pairs with zoom-in/zoom-out: each is trained with its label changed.
    motion) epochs=${EPOCHS_MOTION:-60}
            extra="--mirror-swaps pan-left=pan-right --flip-swaps tilt-up=tilt-down --reverse-swaps pan-left=pan-right,tilt-up=tilt-down,zoom-in=zoom-out" ;;
    *) echo "unknown model $m" >&2; exit 2 ;;
  esac
  [ -d "$WORK/$name/init" ] || "$KINO" model init "tools/recipes/$name.json" --seed "$SEED" -o "$WORK/$name/init"
  resume=""
  if [ -d "$run" ]; then resume="--resume"; fi
  if [ ! -f "$run/done" ]; then
    nice -n 10 "$KINO" train --model "$WORK/$name/init" --data "$DATA/$m/train" --val "$DATA/$m/val" --method full \
      --lr 1e-3 --weight-decay 0.05 --warmup 200 --batch-size 32 --epochs "$epochs" --seed "$SEED" \
      --checkpoint-every 100 --threads 2 $extra $resume -o "$run" 2>&1 | grep --line-buffered -E "^epoch [0-9]+:|wrote|resumed|early"
    touch "$run/done"
  fi
  "$KINO" model eval --model "$run/model" --data "$DATA/$m/test" | tee "$WORK/$name/test.txt"
  accuracy=$(sed -n 's/^accuracy \([0-9.]*\).*/\1/p' "$WORK/$name/test.txt")
  if ! awk -v a="$accuracy" -v m="${MIN_ACCURACY:-0.9}" 'BEGIN { exit !(a >= m) }'; then
    echo "not shipping $name: held-out accuracy $accuracy is below ${MIN_ACCURACY:-0.9}" >&2
    continue
  fi
  rm -rf "models/$name.tmp" && mkdir -p "models/$name.tmp"
  cp "$run/model/config.json" "$run/model/model.safetensors" "models/$name.tmp/"
  rm -rf "models/$name" && mv "models/$name.tmp" "models/$name"
  echo "shipped models/$name ($(du -h models/$name/model.safetensors | cut -f1))"
done
