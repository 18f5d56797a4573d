import Foundation
import KinoMedia

// kino-bench media [--repeats N] [--long-minutes M]
// Prints a markdown table: Kino vs the ffmpeg CLI decoding a 720p clip at 1 and 2 threads,
// and exact 16-frame sampling over a long 720p clip vs decoding every frame.

let args = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
}

guard args.count > 1, args[1] == "media" else {
    print("usage: kino-bench media [--repeats N] [--long-minutes M] [--decode-only]")
    exit(2)
}
let repeats = option("--repeats", 7)
let longMinutes = option("--long-minutes", 10)
let work = NSTemporaryDirectory() + "kino-bench"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

// A 20 s 720p H.264 clip with real motion (the bundled sample is only 6 s: too short to time well).
let clip = work + "/decode-720p.mp4"
if !FileManager.default.fileExists(atPath: clip) {
    try run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=20",
                       "-c:v", "libx264", "-preset", "medium", "-crf", "23", "-pix_fmt", "yuv420p", clip])
}

func kinoDecode(_ path: String, threads: Int, convert: Bool) throws -> Int {
    let decoder = try VideoDecoder(path: path, options: VideoDecodeOptions(threads: threads, convert: convert))
    var n = 0
    while try decoder.nextFrame() != nil { n += 1 }
    return n
}

let frames = try kinoDecode(clip, threads: 1, convert: false)
print("## Media decoding (KinoMedia vs ffmpeg CLI)\n")
print("Clip: 1280×720 H.264 (x264 medium, CRF 23), \(frames) frames; median of \(repeats) interleaved runs.\n")
print("| threads | Kino decode fps | ffmpeg `-f null` fps | ratio Kino/ffmpeg | Kino decode+RGB24 fps |")
print("|---|---|---|---|---|")
for threads in [1, 2] {
    let (tk, tf) = try interleaved(repeats: repeats, {
        _ = try kinoDecode(clip, threads: threads, convert: false)
    }, {
        try run("ffmpeg", ["-v", "error", "-threads", String(threads), "-i", clip, "-an", "-f", "null", "-"])
    })
    var rgb: [Double] = []
    for _ in 0..<max(3, repeats / 2) { rgb.append(try seconds { _ = try kinoDecode(clip, threads: threads, convert: true) }) }
    let fk = Double(frames) / tk, ff = Double(frames) / tf, fr = Double(frames) / median(rgb)
    print(String(format: "| %d | %.0f | %.0f | %.2f | %.0f |", threads, fk, ff, fk / ff, fr))
}

if args.contains("--decode-only") { exit(0) }

// Sampling 16 exact frames over a long clip vs decoding all of it, for two GOP lengths:
// x264's default keyint (250) and a 2-second GOP as phones and streaming encoders use.
for gop in [250, 60] {
    let long = work + "/long-720p-\(longMinutes)min-veryfast-g\(gop).mp4"
    if !FileManager.default.fileExists(atPath: long) {
        try run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=\(longMinutes * 60)",
                           "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p", "-g", String(gop), long])
    }
    var sampled: [VideoFrame] = []
    var indexTime = 0.0
    var picks: [Int] = []
    var variants: [(String, Double)] = []
    for (label, threads, workers) in [("1 decoder, 2 threads", 2, 1), ("2 decoders × 1 thread", 1, 2)] {
        var times: [Double] = []
        for _ in 0..<3 {
            times.append(try seconds {
                // Every run pays for its own index scan: nothing is cached between runs.
                let scanner = try VideoDecoder(path: long, options: VideoDecodeOptions(threads: 1, convert: false))
                indexTime = try seconds { picks = try FrameSelection.count(16).resolve(in: try scanner.frameIndex()) }
                sampled = try VideoDecoder.sample(path: long, at: picks, options: VideoDecodeOptions(threads: threads),
                                                  index: try scanner.frameIndex(), workers: workers)
            })
        }
        variants.append((label, median(times)))
    }
    let sampleTime = variants.map(\.1).min()!
    // The baseline: decode every frame (2 threads, no conversion), checking the sampled frames' timestamps.
    var mismatches = 0
    var fullTimes: [Double] = []
    for _ in 0..<2 {
        fullTimes.append(try seconds {
            let decoder = try VideoDecoder(path: long, options: VideoDecodeOptions(threads: 2, convert: false))
            let wanted = Dictionary(uniqueKeysWithValues: sampled.map { ($0.index, $0) })
            var i = 0
            while let f = try decoder.nextFrame() {
                if let s = wanted[i], s.pts != f.pts { mismatches += 1 }
                i += 1
            }
        })
    }
    let fullTime = median(fullTimes)
    // Pixels: three sampled frames against a sequential decode from the start of their GOP's file position.
    let checker = try VideoDecoder(path: long, options: VideoDecodeOptions(threads: 2))
    for s in sampled.prefix(4).dropFirst() where try checker.frame(at: s.index).bytes != s.bytes { mismatches += 1 }
    print("\n## Exact sampling: 16 frames over a \(longMinutes)-minute 720p clip, GOP \(gop)\n")
    print("| method | seconds (median of 3) | frames decoded |")
    print("|---|---|---|")
    for (label, t) in variants {
        print(String(format: "| Kino: index scan + seek + 16 exact RGB frames (%@) | %.2f (index scan %.2f) | 16 |", label, t, indexTime))
    }
    print(String(format: "| decode every frame (2 threads, no conversion) | %.2f | %d |", fullTime, longMinutes * 60 * 30))
    print(String(format: "\nSpeed-up of the best Kino row: %.1f×; timestamp/pixel mismatches: %d", fullTime / sampleTime, mismatches))
}
