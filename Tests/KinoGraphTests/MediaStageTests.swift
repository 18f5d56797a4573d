import Foundation
import KinoGraph
import KinoMedia
import KinoTestSupport
import Testing

@Suite("Media stages over KinoMedia")
struct MediaStageTests {
    @Test("decode → sample → frames and video: the right frames, in files, with their times")
    func decodeSampleWrite() throws {
        let directory = TemporaryDirectory("kinograph-media")
        defer { directory.cleanup() }
        let input = directory.file("in.mp4")
        try SyntheticVideo.writeClip(to: input, count: 24)
        let spec = try PipelineSpec.parse(yaml: """
            name: media
            stages:
              - {id: decode, kind: decode}
              - {id: every4, kind: sample, inputs: [decode], options: {mode: every-nth, n: 4}}
              - {id: uniform, kind: sample, inputs: [decode], options: {mode: uniform, count: 3}}
              - {id: stills, kind: frames, inputs: [every4], options: {dir: stills}}
              - {id: movie, kind: video, inputs: [uniform], options: {path: uniform.mp4, timing: rate, fps: 10}}
            """)
        let graph = try spec.makeGraph(context: BuildContext(inputPath: input, outputDirectory: directory.path))
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run()
        #expect(report.status == .completed, "\(report.failure?.message ?? "")")
        #expect(report.outputs.count == 2)
        #expect(report.outputs.allSatisfy { $0.complete })

        for index in stride(from: 0, to: 24, by: 4) {
            let still = try ImageFile.read(directory.file("stills/frame-\(String(format: "%06d", index)).png"))
            #expect(SyntheticVideo.decodeIndex(still) == index)
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.file("stills"))
        #expect(written.count == 6)

        let movie = try VideoDecoder(path: directory.file("uniform.mp4"))
        var indices: [Int] = []
        while let frame = try movie.nextFrame() { indices.append(SyntheticVideo.decodeIndex(frame)) }
        #expect(indices == [0, 11, 23])       // uniform from the decoder's exact frame count
    }

    @Test("decode audio → windows: one-second windows over the whole file")
    func decodeAudio() throws {
        let path = Repository.sample("speech.wav")
        let total = try AudioDecoder.decodeAll(path: path, sampleRate: 16000).frameCount
        let sink = CollectSink(.audio)
        var builder = GraphBuilder()
        builder.add("decode", AudioDecodeSource(path: path, sampleRate: 16000, chunkFrames: 3000))
        builder.add("win", AudioWindowStage(window: 1, hop: 1, padEnd: true), inputs: ["decode"])
        builder.add("sink", sink, inputs: ["win"])
        let report = GraphRunner(graph: try builder.build()).run()
        #expect(report.status == .completed)
        #expect(sink.chunks.count == (total + 15999) / 16000)
        #expect(sink.chunks.map(\.seconds) == (0..<sink.chunks.count).map(Double.init))
    }

    @Test("a missing input file fails the run at the decode stage with the path in the message")
    func missingFile() throws {
        let sink = CollectSink()
        let report = try runChain([("decode", VideoDecodeSource(path: "/nonexistent/clip.mp4")), ("sink", sink)])
        #expect(report.status == .failed)
        #expect(report.failure?.stage == "decode")
        #expect(report.failure?.seconds == nil)
        #expect(report.failure?.message.contains("/nonexistent/clip.mp4") == true)
        #expect(sink.cancelledAtFinish == true)
    }

    @Test("decode needs a path when the pipeline is not run on a file")
    func decodeWithoutPath() throws {
        let spec = try PipelineSpec.parse(yaml: "name: t\nstages:\n  - {id: d, kind: decode}\n")
        #expect(throws: GraphError.missingOption(stage: "d", option: "path", line: 3)) { try spec.makeGraph() }
        let audio = try PipelineSpec.parse(yaml: "name: t\nstages:\n  - {id: d, kind: decode, options: {path: a.wav, stream: audio, width: 3}}\n")
        #expect(throws: GraphError.self) { try audio.makeGraph() }
    }
}

@Suite("Bundled media pipeline")
struct OverviewPipelineTests {
    @Test("pipelines/overview.yaml runs on the bundled 720p clip")
    func overview() throws {
        let directory = TemporaryDirectory("kinograph-overview")
        defer { directory.cleanup() }
        let spec = try PipelineSpec.load(path: "\(Repository.root)/pipelines/overview.yaml")
        let graph = try spec.makeGraph(context: BuildContext(inputPath: Repository.sample("clip720.mp4"),
                                                             outputDirectory: directory.path))
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run()
        #expect(report.status == .completed, "\(report.failure?.error.localizedDescription ?? "")")
        // thumbnails/, preview.gif, clips, motion, loudness, labels.jsonl and labels.vtt.
        #expect(report.outputs.count == 7)
        #expect(Set(report.labels.map(\.stage)) == ["camera", "sounds"])
        #expect(report.labels.first { $0.stage == "sounds" }?.labels.first?.label == "speech")
        #expect(report.stats("thumbnails")?.packetsOut == 7)        // info + 6 frames (6 s at 1 fps)
        let clips = try String(contentsOfFile: directory.file("clips.jsonl"), encoding: .utf8)
        #expect(clips.split(separator: "\n").count == 6)             // 180 frames, span 31: starts 0,31,…,155
        let loudness = try String(contentsOfFile: directory.file("loudness.jsonl"), encoding: .utf8)
        let samples = try AudioDecoder.decodeAll(path: Repository.sample("clip720.mp4"), sampleRate: 16000).frameCount
        #expect(loudness.split(separator: "\n").count == (samples + 15999) / 16000)   // the last window padded
        #expect(FileManager.default.fileExists(atPath: directory.file("preview.gif")))
    }
}
