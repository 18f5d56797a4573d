#!/usr/bin/env python3
"""What the labels cost the default pipeline: `kino process` of samples/clip720.mp4 (6 s, 1280x720, 30 fps,
with audio) with pipelines/overview.yaml as shipped (thumbnails, clips, flow motion, loudness, GIF preview
and the shipped models' labels) and with its label stages removed (camera, fbank, sounds, labels, cues), the
two alternating. Prints the median speed (media seconds / wall seconds, from summary.json) of each and the
ratio. Issue 14's bar: the overview with labels stays at or above 5x realtime on 2 cores.

Usage: python3 Benchmarks/labels_speed.py [--repeats 7] [--file samples/clip720.mp4]
Needs a release build (`make release`) and, for both label stages to run, models/kino-sounds and
models/kino-motion (a missing one leaves its stage off, and the table says so).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINO = os.path.join(ROOT, ".build", "release", "kino")
LABEL_STAGES = {"camera", "fbank", "sounds", "labels", "cues"}


def without_labels(text):
    head, _, body = text.partition("stages:\n")
    blocks = body.split("\n  - id: ")
    kept = [blocks[0]] + [b for b in blocks[1:] if b.split("\n", 1)[0].strip() not in LABEL_STAGES]
    return head.replace("name: overview", "name: overview-no-labels") + "stages:\n" + "\n  - id: ".join(kept)


def run(pipeline, file, out):
    subprocess.run([KINO, "process", file, "--pipeline", pipeline, "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = os.path.splitext(os.path.basename(file))[0]
    return json.load(open(os.path.join(out, name, "summary.json")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--file", default=os.path.join(ROOT, "samples", "clip720.mp4"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kino-labels-speed-")
    plain = os.path.join(work, "overview-no-labels.yaml")
    with open(os.path.join(ROOT, "pipelines", "overview.yaml")) as f:
        text = f.read()
    with open(plain, "w") as f:
        f.write(without_labels(text))
    with_labels = os.path.join(ROOT, "pipelines", "overview.yaml")
    speeds = {"without labels": [], "with labels": []}
    labels = None
    for i in range(a.repeats + 1):
        for name, p in (("without labels", plain), ("with labels", with_labels)):
            s = run(p, a.file, os.path.join(work, name.replace(" ", "-")))
            if i > 0:   # the first round warms the page cache
                speeds[name].append(s["speed"])
            if name == "with labels":
                labels = s.get("labels")
    print(f"`kino process {os.path.relpath(a.file, ROOT)}`, {a.repeats} alternating runs each, median speed (x realtime):\n")
    print("| pipeline | median speed | min | max |\n|---|---|---|---|")
    for name, v in speeds.items():
        print(f"| overview {name} | {statistics.median(v):.2f}x | {min(v):.2f}x | {max(v):.2f}x |")
    ratio = statistics.median(speeds["with labels"]) / statistics.median(speeds["without labels"])
    print(f"\nwith/without: {ratio:.2f}")
    for entry in labels or []:
        main = ", ".join(f"{m['label']} {m['share']:.0%}" for m in entry["labels"]) if entry["ran"] else "off: " + entry["reason"]
        print(f"- {entry['stage']} ({entry.get('model') or 'no model'}): {main}")


if __name__ == "__main__":
    sys.exit(main())
