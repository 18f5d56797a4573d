#!/usr/bin/env bash
# Regenerates Kino's bundled samples from FFmpeg's lavfi sources, sox and espeak-ng.
# Needs: ffmpeg (with libx264), sox, espeak-ng. Output is deterministic for a given toolchain.
# Usage: samples/make-samples.sh   (writes into samples/)
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# Speech: two sentences from espeak-ng, 16 kHz mono WAV (also the voice of the video clip).
espeak-ng -v en-us -s 150 -w "$tmp/say1.wav" "Kino decodes every frame exactly, with its timestamp."
espeak-ng -v en-gb -s 140 -w "$tmp/say2.wav" "A dog barks in the distance while the music plays."
sox "$tmp/say1.wav" "$tmp/say2.wav" -r 16000 -c 1 -b 16 speech.wav

# Music-like audio: a chord progression with a tremolo, stereo 44.1 kHz FLAC.
sox -n -r 44100 -c 2 -b 16 "$tmp/music.wav" synth 6 pluck C3 pluck E3 pluck G3 pluck C4 tremolo 4 30 fade 0.05 6 0.5 gain -6
sox "$tmp/music.wav" music.flac

# 720p H.264 + AAC: moving test pattern with speech over a quiet tone bed, 6 s at 30 fps.
sox "$tmp/say1.wav" "$tmp/say2.wav" -r 48000 -c 2 "$tmp/voice.wav" pad 0.3 0.2
ff -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=6" -i "$tmp/voice.wav" \
   -f lavfi -i "sine=frequency=220:sample_rate=48000:duration=6" \
   -filter_complex "[2:a]volume=0.05[bed];[1:a][bed]amix=inputs=2:duration=longest:normalize=0,aformat=channel_layouts=stereo[a]" \
   -map 0:v -map "[a]" -t 6 -c:v libx264 -preset medium -crf 30 -pix_fmt yuv420p -g 60 -bf 2 \
   -c:a aac -b:a 64k -movflags +faststart clip720.mp4

# Variable frame rate: frame gaps alternate between 1/30 s and 2/30 s, passed through unchanged.
ff -f lavfi -i "testsrc=size=320x240:rate=30:duration=4" -vf "setpts='(N+floor(N/2))/(30*TB)'" \
   -fps_mode passthrough -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -video_track_timescale 30000 vfr.mp4

# Long GOP with B-frames: 300-frame GOP (one keyframe every 10 s), 3 B-frames, 20 s at 30 fps.
ff -f lavfi -i "testsrc2=size=320x240:rate=30:duration=20" -c:v libx264 -preset veryfast -crf 32 -pix_fmt yuv420p \
   -x264-params "keyint=300:min-keyint=300:scenecut=0:bframes=3:b-pyramid=normal" longgop.mp4

# A still image: a frame of the Mandelbrot zoom, as PNG and JPEG.
ff -f lavfi -i "mandelbrot=size=640x360:rate=1" -frames:v 1 still.png
ff -i still.png -q:v 3 still.jpg

ls -l
