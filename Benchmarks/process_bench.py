#!/usr/bin/env python3
"""kino process vs the ffmpeg CLI, and memory over a 1-hour file (issue 3's benchmarks).

Usage: python3 Benchmarks/process_bench.py [--repeats 7] [--hour-minutes 60] [--results Benchmarks/RESULTS.md]

1. Decode + sample (8 fps, 224x224 RGB) of samples/clip720.mp4: `kino process --pipeline
   Benchmarks/sample8.yaml` vs `ffmpeg -i FILE -vf fps=8,scale=224:224 -f rawvideo -pix_fmt rgb24 -`,
   alternating runs, medians, throughput ratio Kino/ffmpeg.
2. The same pipeline over a generated 1-hour 720p H.264 file (cached under $TMPDIR/kino-bench):
   peak RSS of the kino process, sampled every 0.5 s, and RSS at 10/50/90 % of the run.
Needs only the standard library, ffmpeg and a release build (`make release`).
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINO = os.path.join(ROOT, ".build", "release", "kino")
PIPELINE = os.path.join(ROOT, "Benchmarks", "sample8.yaml")


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_kino(path, out):
    start = time.perf_counter()
    subprocess.run([KINO, "process", path, "--pipeline", PIPELINE, "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_ffmpeg(path):
    start = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", "fps=8,scale=224:224", "-f", "rawvideo",
                    "-pix_fmt", "rgb24", "-"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def watch_memory(path, out):
    proc = subprocess.Popen([KINO, "process", path, "--pipeline", PIPELINE, "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples, start = [], time.perf_counter()
    while proc.poll() is None:
        value = rss_kib(proc.pid)
        if value:
            samples.append((time.perf_counter() - start, value))
        time.sleep(0.5)
    if proc.returncode != 0:
        sys.exit(f"kino process failed on {path}")
    return time.perf_counter() - start, samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--hour-minutes", type=int, default=60)
    ap.add_argument("--results")
    a = ap.parse_args()
    if not os.access(KINO, os.X_OK):
        sys.exit("build first: make release")
    clip = os.path.join(ROOT, "samples", "clip720.mp4")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tk, tf = [], []
        run_kino(clip, os.path.join(tmp, "warm")); run_ffmpeg(clip)
        for i in range(a.repeats):
            tk.append(run_kino(clip, os.path.join(tmp, f"k{i}")))
            tf.append(run_ffmpeg(clip))
        mk, mf = statistics.median(tk), statistics.median(tf)
        frames = sum(1 for _ in open(os.path.join(tmp, "k0", "clip720", "frames.jsonl")))

        work = os.path.join(tempfile.gettempdir(), "kino-bench")
        os.makedirs(work, exist_ok=True)
        hour = os.path.join(work, f"long-720p-{a.hour_minutes}min-ultrafast.mp4")
        if not os.path.exists(hour):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                            f"testsrc2=size=1280x720:rate=30:duration={a.hour_minutes * 60}", "-c:v", "libx264",
                            "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p", hour], check=True)
        wall, mem = watch_memory(hour, os.path.join(tmp, "hour"))
        hour_frames = sum(1 for _ in open(os.path.join(tmp, "hour", os.path.splitext(os.path.basename(hour))[0], "frames.jsonl")))

    def at(fraction):
        t = wall * fraction
        return min(mem, key=lambda s: abs(s[0] - t))[1] / 1024
    peak = max(v for _, v in mem) / 1024
    lines = [
        "## Graph: `kino process` vs the ffmpeg CLI, and memory over a long file",
        "",
        f"Command: `make release && python3 Benchmarks/process_bench.py --repeats {a.repeats} --hour-minutes {a.hour_minutes}`",
        f"(pipeline `Benchmarks/sample8.yaml`: decode at 224×224 RGB → sample 8 fps → one event per frame → JSONL). Load average at start {load:.1f}.",
        "",
        "| input | Kino `process` (s, median) | ffmpeg `-vf fps=8,scale=224:224 -f rawvideo` (s, median) | throughput ratio Kino/ffmpeg | frames kept |",
        "|---|---|---|---|---|",
        f"| samples/clip720.mp4 (6 s, 1280×720 H.264 + AAC), {a.repeats} alternating runs | {mk:.3f} | {mf:.3f} | {mf / mk:.2f} | {frames} |",
        "",
        f"Memory over a generated {a.hour_minutes}-minute 1280×720 H.264 file (x264 ultrafast), same pipeline: {hour_frames} frames kept in {wall:.0f} s;",
        f"peak RSS {peak:.0f} MB; RSS at 10 % / 50 % / 90 % of the run: {at(0.1):.0f} / {at(0.5):.0f} / {at(0.9):.0f} MB ({len(mem)} samples, every 0.5 s).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if a.results:
        with open(a.results) as f:
            doc = f.read()
        head = "## Graph: `kino process` vs the ffmpeg CLI, and memory over a long file"
        if head in doc:
            start = doc.index(head)
            nxt = doc.find("\n## ", start + 1)
            doc = doc[:start] + text + ("\n" + doc[nxt + 1:] if nxt >= 0 else "")
        else:
            doc = doc.rstrip("\n") + "\n\n" + text
        with open(a.results, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
