#!/usr/bin/env bash
# Runs one fuzz target for a while: Fuzz/run-fuzz.sh TARGET SECONDS [WORK]
# TARGET is safetensors, model-config, pipeline, probe or decode. The corpus in
# WORK/corpus/TARGET grows as the run finds new coverage; crashing, hanging and memory-hungry
# inputs land in WORK/artifacts/TARGET/ (crash-*, timeout-*, oom-*, leak-*); the log in WORK/logs.
# Fork mode with -ignore_* keeps a run going after a finding, so one run collects all of them.
set -euo pipefail
# All in one function, read whole before it runs, so editing this file during a run cannot
# make bash execute the rest of a changed file (it reads scripts as it goes).
main() {
  cd "$(dirname "$0")/.."
  target=$1 seconds=$2 work=${3:-fuzz-work}
  build=${FUZZ_BUILD:-.build-fuzz-san}
  case "$target" in
    safetensors) binary=FuzzSafeTensors max_len=65536 ;;
    model-config) binary=FuzzModelConfig max_len=16384 ;;
    pipeline) binary=FuzzPipeline max_len=8192 ;;
    probe) binary=FuzzProbe max_len=65536 ;;
    decode) binary=FuzzDecode max_len=65536 ;;
    *) echo "unknown fuzz target $target" >&2; exit 2 ;;
  esac
  extra=()
  [ "$target" = pipeline ] && [ -f "$work/pipeline.dict" ] && extra=(-dict="$work/pipeline.dict")
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target" "$work/logs"
  echo "fuzzing $target for $seconds s (log: $work/logs/$target.log)"
  scratch=$(mktemp -d "${TMPDIR_FUZZ:-/dev/shm}/kino-fuzz-run.XXXXXX" 2>/dev/null || mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  KINO_FUZZ_SCRATCH=$scratch nice -n 19 "$build/debug/$binary" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -rss_limit_mb=4096 -timeout=10 -max_len=$max_len -max_total_time="$seconds" \
    -artifact_prefix="$work/artifacts/$target/" "${extra[@]}" "$work/corpus/$target" > "$work/logs/$target.log" 2>&1 || true
  grep -E '^#[0-9]+: cov' "$work/logs/$target.log" | tail -1 || true
  found=$(find "$work/artifacts/$target" -type f | wc -l)
  echo "$target: $found artifact(s) in $work/artifacts/$target"
}
main "$@"
exit
