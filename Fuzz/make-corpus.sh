#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets under $1 (default fuzz-work/corpus), one folder per
# target, from files already in the repository: small safetensors and config.json fixtures,
# pipelines/*.yaml, samples/ (small files whole, big ones cut to their first 48 KiB), the fuzz
# regression inputs, and, when the ffmpeg CLI is installed, a few tiny clips in other containers.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-fuzz-work/corpus}
regressions=Tests/KinoCLITests/Fixtures/fuzz-regressions
mkdir -p "$out"/{safetensors,model-config,pipeline,probe,decode}

# Safetensors: every fixture under 256 KiB (headers are what matters; big ones are cut).
find Tests -name '*.safetensors' -size -256k | while read -r f; do
  cp "$f" "$out/safetensors/$(echo "$f" | tr '/' '_')"
done
find Tests -name '*.safetensors' -size +255k | head -4 | while read -r f; do
  head -c 65536 "$f" > "$out/safetensors/cut_$(echo "$f" | tr '/' '_')"
done

# Model configs: every config.json fixture.
find Tests -path '*Fixtures*' -name 'config.json' | while read -r f; do
  cp "$f" "$out/model-config/$(echo "$f" | tr '/' '_')"
done

# Pipelines: the bundled ones and any under the test fixtures.
cp pipelines/*.yaml "$out/pipeline/"
find Tests -path '*Fixtures*' \( -name '*.yaml' -o -name '*.yml' \) -exec cp {} "$out/pipeline/" \; 2>/dev/null || true
# ... the YAML examples of docs/PIPELINES.md, and a libFuzzer dictionary of the words it
# puts in backticks (stage kinds, option names, keys), so mutations speak the format.
awk -v dir="$out/pipeline" '/^```yaml/ { n++; f = sprintf("%s/doc-example-%02d.yaml", dir, n); on = 1; next }
     /^```/ { on = 0; next } on { print > f }' docs/PIPELINES.md
mkdir -p "$(dirname "$out")"
grep -o '`[a-z][a-z0-9_-]*`' docs/PIPELINES.md | tr -d '`' | sort -u | sed 's/.*/"&"/' > "$(dirname "$out")/pipeline.dict"

# Media: small samples whole, big ones truncated (the probe and a short decode read the start).
for f in samples/*; do
  [ -f "$f" ] || continue
  case "$f" in *.sh) continue ;; esac
  name=$(basename "$f")
  if [ "$(stat -c %s "$f")" -le 65536 ]; then cp "$f" "$out/probe/$name"; else head -c 49152 "$f" > "$out/probe/cut_$name"; fi
done
if command -v ffmpeg >/dev/null; then
  tiny="-hide_banner -loglevel error -y"
  ffmpeg $tiny -f lavfi -i testsrc=size=32x24:rate=5:duration=0.6 -c:v libx264 -g 2 "$out/probe/tiny.mkv" || true
  ffmpeg $tiny -f lavfi -i testsrc=size=32x24:rate=5:duration=0.6 -c:v mpeg4 "$out/probe/tiny.avi" || true
  ffmpeg $tiny -f lavfi -i testsrc=size=32x24:rate=5:duration=0.6 -c:v mjpeg "$out/probe/tiny-mjpeg.mov" || true
  ffmpeg $tiny -f lavfi -i testsrc=size=32x24:rate=5:duration=0.6 "$out/probe/tiny.gif" || true
  ffmpeg $tiny -f lavfi -i sine=frequency=440:duration=0.1:sample_rate=8000 "$out/probe/tiny.wav" || true
  ffmpeg $tiny -f lavfi -i sine=frequency=440:duration=0.1:sample_rate=8000 -c:a flac "$out/probe/tiny.flac" || true
  ffmpeg $tiny -f lavfi -i sine=frequency=440:duration=0.2:sample_rate=8000 -c:a libmp3lame "$out/probe/tiny.mp3" 2>/dev/null || true
  ffmpeg $tiny -f lavfi -i sine=frequency=440:duration=0.2:sample_rate=8000 -c:a aac "$out/probe/tiny.m4a" || true
  ffmpeg $tiny -f lavfi -i testsrc=size=32x24:rate=5:duration=0.4 -f lavfi -i sine=duration=0.4:sample_rate=8000 \
    -c:v libx264 -c:a aac -shortest "$out/probe/tiny-av.mp4" || true
fi
cp "$out"/probe/* "$out/decode/"

# Past findings seed their own target again.
for target in safetensors model-config pipeline probe decode; do
  if [ -d "$regressions/$target" ]; then
    find "$regressions/$target" -type f ! -name '*.md' -exec cp {} "$out/$target/" \;
  fi
done
du -sh "$out"/*
