import Foundation
import KinoGraph
import KinoMedia
import KinoTestSupport
import Testing

/// A decoder whose consumers are all samplers converts only the frames they keep: the outputs
/// must be exactly those of a decoder that converts every frame.
@Suite("Decoding planned by the samplers")
struct DecodePlanTests {
    /// Frames (index, time, pixels) reaching each of the sinks, and the frames converted.
    func run(_ path: String, modes: [SampleMode], planned: Bool) throws -> (outputs: [[[Int]]], times: [[Double]], pixels: [[Int]], converted: Int) {
        var builder = GraphBuilder()
        builder.planDecoding = planned
        let source = VideoDecodeSource(path: path, options: VideoDecodeOptions(width: 64, height: 48))
        builder.add("decode", source)
        var sinks: [CollectSink] = []
        for (k, mode) in modes.enumerated() {
            let sink = CollectSink()
            sinks.append(sink)
            builder.add("s\(k)", SampleStage(mode: mode), inputs: ["decode"])
            builder.add("out\(k)", sink, inputs: ["s\(k)"])
        }
        let report = GraphRunner(graph: try builder.build(), pool: ComputePool(slots: 2)).run()
        #expect(report.status == .completed, "\(report.failure?.message ?? "")")
        func frames(_ sink: CollectSink) -> [[VideoFrame]] { sink.frames.map { [$0] } + sink.clips.map(\.frames) }
        let all = sinks.map(frames)
        return (all.map { $0.map { $0.map(\.index) } },
                all.map { $0.flatMap { $0.map(\.seconds) } },
                all.map { $0.flatMap { $0.map { $0.bytes.reduce(0) { $0 &* 31 &+ Int($1) } } } },
                source.convertedFrames)
    }

    static let modes: [SampleMode] = [.fps(8), .fps(1), .everyNth(7), .uniform(count: 10),
                                      .clips(ClipSpec(length: 4, frameStride: 3, clipStride: 20, policy: .pad))]

    @Test("same frames, times and pixels as converting every frame, for fewer conversions",
          arguments: ["clip720.mp4", "vfr.mp4", "longgop.mp4"])
    func samplersGetTheSameFrames(sample: String) throws {
        let path = Repository.sample(sample)
        let total = try VideoDecoder(path: path).frameIndex().count
        let full = try run(path, modes: Self.modes, planned: false)
        let planned = try run(path, modes: Self.modes, planned: true)
        #expect(full.outputs == planned.outputs)
        #expect(full.times == planned.times)
        #expect(full.pixels == planned.pixels)
        #expect(full.outputs.allSatisfy { !$0.isEmpty })
        #expect(full.converted == total)
        // What the samplers keep, plus the last clip span (kept in case the stream outlasts its index).
        let needed = Set(full.outputs.flatMap { $0.flatMap { $0 } }).union(max(0, total - 10)..<total)
        #expect(planned.converted == needed.count, "converted \(planned.converted) of \(total)")
        #expect(planned.converted < total)
    }

    /// Streams whose index and decoder could disagree: an edit list hiding 30 frames, Matroska
    /// without decode timestamps, a duplicated timestamp, AVI without presentation timestamps (no
    /// plan), variable frame rate with B-frames. Every sampler must get what it would unplanned.
    @Test("awkward streams give the same frames planned or not",
          arguments: ["negative.mp4", "longgop.mkv", "duplicate.mkv", "longgop.avi", "vfr.mp4"])
    func awkwardStreams(name: String) throws {
        let directory = TemporaryDirectory("kino-plan")
        defer { directory.cleanup() }
        let base = directory.file("base.mp4"), path = directory.file(name)
        func ffmpeg(_ args: [String]) throws { _ = try runTool("ffmpeg", ["-v", "error", "-y"] + args) }
        switch name {
        case "negative.mp4":
            try SyntheticVideo.writeClip(to: base, count: 120, gop: 60, bFrames: 3)
            try ffmpeg(["-i", base, "-c", "copy", "-output_ts_offset", "-1", "-avoid_negative_ts", "disabled", path])
        case "longgop.mkv", "longgop.avi":
            try SyntheticVideo.writeClip(to: base, count: 120, gop: 100, bFrames: 3)
            try ffmpeg(["-i", base, "-c", "copy", path])
        case "duplicate.mkv":
            try SyntheticVideo.writeClip(to: base, count: 60, gop: 20, bFrames: 0)
            try ffmpeg(["-i", base, "-c", "copy", "-bsf:v", "setts=ts=if(eq(N\\,11)\\,PREV_INPTS\\,PTS)", path])
        default:
            var t = 0.0, times: [Double] = []
            for i in 0..<90 { times.append(t); t += Double(i % 3 + 1) / 30 }
            try SyntheticVideo.writeClip(to: path, count: 90, gop: 40, bFrames: 2, times: times)
        }
        let full = try run(path, modes: Self.modes, planned: false)
        let planned = try run(path, modes: Self.modes, planned: true)
        #expect(full.outputs == planned.outputs)
        #expect(full.times == planned.times)
        #expect(full.pixels == planned.pixels)
        #expect(planned.converted <= full.converted)
    }

    /// A file cut short: its index lists frames the decoder never delivers, so the plan's guess
    /// about the tail is wrong; the check against the decoded frames must catch it.
    @Test("a truncated file gives the same frames planned or not")
    func truncatedFile() throws {
        let directory = TemporaryDirectory("kino-plan")
        defer { directory.cleanup() }
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.sample("clip720.mp4")))   // index first
        let cut = directory.file("cut.mp4")
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: cut))
        let total = try VideoDecoder(path: cut).frameIndex().count
        let full = try run(cut, modes: Self.modes, planned: false)
        let planned = try run(cut, modes: Self.modes, planned: true)
        let decoded = full.converted
        #expect(decoded < total)   // the damage really hides frames the index lists
        #expect(full.outputs == planned.outputs)
        #expect(full.times == planned.times)
        #expect(full.pixels == planned.pixels)
        #expect(planned.converted < decoded)
    }

    /// Damage in the middle of the stream: the decoder conceals or drops pictures the index still
    /// lists. Whatever it delivers, planned and unplanned runs must pass on the same frames.
    @Test("a file with corrupted bytes gives the same frames planned or not", arguments: [1, 2, 3])
    func corruptedFile(seed: UInt64) throws {
        let directory = TemporaryDirectory("kino-plan")
        defer { directory.cleanup() }
        var data = try Data(contentsOf: URL(fileURLWithPath: Repository.sample("clip720.mp4")))   // index first
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<400 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let at = 20_000 + Int((state >> 33) % UInt64(data.count - 20_000))
            data[at] = UInt8(truncatingIfNeeded: state >> 13)
        }
        let path = directory.file("damaged.mp4")
        try data.write(to: URL(fileURLWithPath: path))
        let full = try run(path, modes: Self.modes, planned: false)
        let planned = try run(path, modes: Self.modes, planned: true)
        // Frames and times only: concealing damage with frame threads is not deterministic, so
        // two unplanned runs already differ in the pixels of damaged pictures.
        #expect(full.outputs == planned.outputs)
        #expect(full.times == planned.times)
    }

    @Test("a decoder with a consumer other than a sampler converts every frame")
    func otherConsumersSeeEveryFrame() throws {
        let path = Repository.sample("vfr.mp4")
        var builder = GraphBuilder()
        let source = VideoDecodeSource(path: path, options: VideoDecodeOptions(width: 64, height: 48))
        builder.add("decode", source)
        builder.add("sample", SampleStage(mode: .fps(1)), inputs: ["decode"])
        builder.add("a", CollectSink(), inputs: ["sample"])
        let every = CollectSink()
        builder.add("b", every, inputs: ["decode"])
        let report = GraphRunner(graph: try builder.build()).run()
        #expect(report.status == .completed)
        #expect(every.frames.allSatisfy { !$0.isUnconverted && $0.bytes.count == 64 * 48 * 3 })
        #expect(source.convertedFrames == every.frames.count)
    }
}
