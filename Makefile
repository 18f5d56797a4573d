# Kino — two commands: `make demo` (set up, build release, run on the bundled samples)
# and `make test` (set up, build, run the test suite). Both install what they need.
SHELL := /bin/bash
APT_PACKAGES := pkg-config libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev \
                libsndfile1-dev libopenblas-dev libsqlite3-dev ffmpeg sox espeak-ng
SWIFT ?= swift
DEMO_OUT ?= demo-out
KINO_RELEASE := .build/release/kino

.PHONY: setup build release demo test samples models install clean fuzz fuzz-build
PREFIX ?= /usr/local

# Installs the system packages that are missing (Debian/Ubuntu; needs root or sudo).
setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build

# Release builds use AVX2 code generation when this machine has it (the flow kernels' SIMD8
# lanes then run as one 256-bit operation instead of two SSE halves: about 1.5x faster).
RELEASE_FLAGS := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo "-Xswiftc -target-cpu -Xswiftc haswell")

release: setup
	$(SWIFT) build -c release --product kino $(RELEASE_FLAGS)

demo: release
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(KINO_RELEASE) probe samples/clip720.mp4 samples/longgop.mp4 samples/vfr.mp4 samples/speech.wav samples/music.flac samples/still.png
	$(KINO_RELEASE) frames samples/clip720.mp4 --count 8 --short-side 224 -o $(DEMO_OUT)/clip720-frames
	$(KINO_RELEASE) frames samples/longgop.mp4 --times 0,9.99,10,19.9 -o $(DEMO_OUT)/longgop-frames
	$(KINO_RELEASE) frames samples/vfr.mp4 --fps 2 --size 160x120 -o $(DEMO_OUT)/vfr-frames
	$(KINO_RELEASE) spectrogram samples/speech.wav --ast -o $(DEMO_OUT)/speech-ast.npy --png $(DEMO_OUT)/speech-ast.png
	$(KINO_RELEASE) spectrogram samples/music.flac --kind mel --db -o $(DEMO_OUT)/music-mel.npy --png $(DEMO_OUT)/music-mel.png --colormap magma
	$(KINO_RELEASE) flow samples/clip720.mp4 -o $(DEMO_OUT)/clip720-flow.mp4 --stats $(DEMO_OUT)/clip720-motion.jsonl
	$(KINO_RELEASE) pipelines
	$(KINO_RELEASE) process samples/clip720.mp4 samples/vfr.mp4 samples/speech.wav samples/music.flac --jobs 2 -o $(DEMO_OUT)/process
	@echo "labels from the shipped models (models/):"
	for f in samples/speech.wav samples/music.flac samples/clip720.mp4; do echo "== $$f"; $(KINO_RELEASE) classify $$f --top-k 2 || exit 1; done
	$(KINO_RELEASE) process samples/clip720.mp4 --pipeline labels -o $(DEMO_OUT)/labels
	@echo "demo outputs in $(DEMO_OUT)/"

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

samples:
	samples/make-samples.sh

# Retrains the shipped default models (models/kino-sounds, models/kino-motion) from generated
# data: hours on 2 cores, resumable (tools/train-default-models.sh; recipes in models/*/TRAINING.md).
models: release
	bash tools/train-default-models.sh

# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of the safetensors reader, model
# config loading, pipeline checking, the probe and a short decode: Fuzz/README.md.
# `make fuzz FUZZ_SECONDS=60` builds the targets, seeds a corpus from the repository and runs each
# target for that long; findings go to $(FUZZ_WORK)/artifacts/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= safetensors model-config pipeline probe decode
FUZZ_WORK ?= fuzz-work
FUZZ_BUILD ?= .build-fuzz-san
# SwiftPM's --sanitize=fuzzer makes it link libFuzzer's main instead of renaming the executable's;
# the -Xswiftc repeat is needed because SwiftPM also passes a lone -sanitize=address after it,
# which would otherwise win and leave the code without coverage instrumentation.
FUZZ_SWIFT_FLAGS := --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address

# The touch makes SwiftPM re-read the root package's manifest: it does not notice on its own
# when a path dependency's Package.swift changes (a new target there gives "no such module").
fuzz-build: setup
	touch Fuzz/Package.swift
	cd Fuzz && nice -n 19 $(SWIFT) build --scratch-path ../$(FUZZ_BUILD) $(FUZZ_SWIFT_FLAGS)

fuzz: fuzz-build
	Fuzz/make-corpus.sh $(FUZZ_WORK)/corpus
	@for t in $(FUZZ_TARGETS); do FUZZ_BUILD=$(FUZZ_BUILD) Fuzz/run-fuzz.sh $$t $(FUZZ_SECONDS) $(FUZZ_WORK); done

# Installs the binary and the bundled pipelines where `kino` looks for them (PREFIX/share/kino/pipelines).
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/kino/pipelines
	install -m 755 $(KINO_RELEASE) $(DESTDIR)$(PREFIX)/bin/kino
	install -m 644 pipelines/*.yaml $(DESTDIR)$(PREFIX)/share/kino/pipelines/
	for m in models/kino-*/; do [ -f $$m/model.safetensors ] || continue; n=$$(basename $$m); install -d $(DESTDIR)$(PREFIX)/share/kino/models/$$n; install -m 644 $$m/config.json $$m/model.safetensors $(DESTDIR)$(PREFIX)/share/kino/models/$$n/; done

clean:
	rm -rf .build $(DEMO_OUT)
