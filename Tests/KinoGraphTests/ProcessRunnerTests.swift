import Foundation
import KinoGraph
import KinoMedia
import KinoTestSupport
import Testing

/// The bundled pipelines of this checkout only, so tests do not depend on the environment.
private let library = PipelineLibrary(directories: ["\(Repository.root)/pipelines"])

private func options(_ out: String, pipeline: String? = nil, jobs: Int = 1) -> ProcessOptions {
    ProcessOptions(pipeline: pipeline, outputDirectory: out, jobs: jobs, library: library, computeSlots: 2)
}

@Suite("Process runner")
struct ProcessRunnerTests {
    @Test("a good and a corrupt file together: complete outputs for one, a reported failure for the other")
    func goodAndCorrupt() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let corrupt = directory.file("broken.mp4")
        try TinyMedia.writeCorrupt(to: corrupt)
        let out = directory.file("out")
        let finished = Locked([String]())
        let summaries = ProcessRunner(options: options(out, jobs: 2)).run([Repository.sample("clip720.mp4"), corrupt]) { event in
            if case .finished(_, let summary) = event { finished.withLock { $0.append(summary.input) } }
        }
        #expect(finished.current.count == 2)

        let good = summaries[0]
        #expect(good.status == .completed)
        #expect(good.pipeline == "overview")
        #expect(good.output == "\(out)/clip720")
        #expect(abs((good.mediaDuration ?? 0) - 6) < 0.1)
        let decode = try #require(good.stages.first { $0.id == "video" })
        #expect(decode.packetsOut == 181)            // stream info + 180 frames (6 s at 30 fps)
        #expect(good.outputs.count == 7 && good.outputs.allSatisfy(\.complete))
        #expect(good.labels?.first { $0.stage == "sounds" }?.model == "kino-sounds")
        let written = try FileSummary.read(from: "\(out)/clip720/summary.json")
        #expect(written.status == .completed && written.stages == good.stages && written.labels == good.labels)
        for file in ["clips.jsonl", "motion.jsonl", "loudness.jsonl", "labels.jsonl", "labels.vtt", "preview.gif", "thumbnails/frame-000000.jpg"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/clip720/\(file)"), "missing \(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(out)/clip720.incomplete"))

        // Bytes no demuxer accepts are not media: rejected, with no folder of any name.
        let bad = summaries[1]
        #expect(bad.status == .rejected)
        #expect(bad.error?.stage == "probe")
        #expect(bad.error?.message.contains("broken.mp4") == true)
        #expect(bad.output == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(out)/broken"))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/broken.incomplete"))
    }

    @Test("cancelling mid-run leaves only an .incomplete folder whose summary says cancelled")
    func cancelMidRun() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.file("out")
        let token = CancelToken()
        let summary = ProcessRunner(options: options(out, pipeline: "overview-video")).process(
            Repository.sample("clip720.mp4"), name: "clip", cancel: token) { event in
            if case .progress(let progress) = event, progress.mediaSeconds > 0.5 { token.cancel() }
        }
        #expect(summary.status == .cancelled)
        #expect((summary.mediaSeconds ?? 0) > 0.5 && (summary.mediaSeconds ?? 6) < 5.9)
        #expect(!FileManager.default.fileExists(atPath: "\(out)/clip"))
        let written = try FileSummary.read(from: "\(out)/clip.incomplete/summary.json")
        #expect(written.status == .cancelled)
        #expect(FileManager.default.fileExists(atPath: "\(out)/clip.incomplete/motion.jsonl.incomplete"))
        #expect(summary.outputs.allSatisfy { !$0.complete })
    }

    @Test("the default pipeline follows the streams: audio-only and video-only files both complete")
    func automaticPipeline() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let silentVideo = directory.file("silent.mp4")
        try SyntheticVideo.writeClip(to: silentVideo, count: 20, width: 64, height: 48)
        let summaries = ProcessRunner(options: options(directory.file("out"))).run([Repository.sample("speech.wav"), silentVideo])
        #expect(summaries.map(\.status) == [.completed, .completed])
        #expect(summaries.map(\.pipeline) == ["overview-audio", "overview-video"])
        let lines = try String(contentsOfFile: directory.file("out/speech/loudness.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 9)                    // 8.0 s in one-second windows, the last one padded
    }

    @Test("inputs sharing a stem get their own folders; a rerun replaces the earlier result")
    func collisionsAndRerun() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        try FileManager.default.createDirectory(atPath: directory.file("a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.file("b"), withIntermediateDirectories: true)
        try TinyMedia.writeWAV(to: directory.file("a/tone.wav"), seconds: 1)
        try TinyMedia.writeWAV(to: directory.file("b/tone.wav"), seconds: 2)
        let out = directory.file("out")
        let runner = ProcessRunner(options: options(out, pipeline: "levels"))
        let first = runner.run([directory.file("a/tone.wav"), directory.file("b/tone.wav")])
        #expect(first.map(\.output) == ["\(out)/tone", "\(out)/tone-2"])
        #expect(try FileSummary.read(from: "\(out)/tone-2/summary.json").input == directory.file("b/tone.wav"))
        let again = runner.run([directory.file("b/tone.wav")])
        #expect(again[0].status == .completed)
        #expect(try FileSummary.read(from: "\(out)/tone/summary.json").input == directory.file("b/tone.wav"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") || $0.hasSuffix(".incomplete") }
        #expect(leftovers.isEmpty)
    }

    @Test("a run that ignores cancellation is abandoned after timeout + grace, and never published later")
    func abandon() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var registry = StageRegistry.builtIn
        registry.register(StageKind(name: "block", summary: "sleeps on stuck* inputs", inputs: "none", output: "audio",
                                    options: []) { _, context in SleepingSource(path: context.inputPath) })
        try """
            name: block
            stages:
              - {id: source, kind: block}
              - {id: facts, kind: measure, inputs: [source]}
              - {id: out, kind: jsonl, inputs: [facts], options: {path: facts.jsonl}}
            """.write(toFile: directory.file("block.yaml"), atomically: true, encoding: .utf8)
        for name in ["stuck.wav", "good.wav"] { try TinyMedia.writeWAV(to: directory.file(name), seconds: 0.1) }
        var settings = options(directory.file("out"), pipeline: directory.file("block.yaml"))
        settings.registry = registry
        settings.timeout = 0.2
        settings.abandonAfter = 0.2
        let began = Date()
        let summaries = ProcessRunner(options: settings).run([directory.file("stuck.wav"), directory.file("good.wav")])
        #expect(Date().timeIntervalSince(began) < 1.4)           // the stuck source sleeps 1.5 s
        #expect(summaries[0].status == .failed && summaries[0].error?.stage == "timeout")
        #expect(summaries[0].error?.message.contains("abandoned") == true)
        #expect(summaries[1].status == .completed, "\(summaries[1].line)")
        Thread.sleep(forTimeInterval: 1.6)                       // the stuck run ends (cancelled) meanwhile
        #expect(!FileManager.default.fileExists(atPath: directory.file("out/stuck")))
        #expect(try FileSummary.read(from: directory.file("out/stuck.incomplete/summary.json")).error?.stage == "timeout")
    }

    @Test("folder names: stems, numbered on collision, never hidden")
    func names() {
        #expect(OutputFolder.uniqueNames(for: ["x/a.mp4", "y/a.wav", "a", "b.c.mp4"]) == ["a", "a-2", "a-3", "b.c"])
        #expect(OutputFolder.uniqueNames(for: ["v.mp4"], taken: ["v", "v-2"]) == ["v-3"])
        #expect(OutputFolder.stem(of: "/in/.hidden") == "file.hidden")
    }

    @Test("pipelines are looked up in $KINO_PIPELINES, beside the binary, ./pipelines, then the source tree")
    func lookupOrder() throws {
        let dirs = PipelineLibrary.standardDirectories(environment: ["KINO_PIPELINES": "/opt/p1:/opt/p2"],
                                                       executablePath: "/usr/local/bin/kino", currentDirectory: "/work")
        #expect(Array(dirs.prefix(5)) == ["/opt/p1", "/opt/p2", "/usr/local/share/kino/pipelines",
                                          "/usr/local/bin/pipelines", "/work/pipelines"])
        #expect(dirs.last == "\(Repository.root)/pipelines")
        let names = PipelineLibrary.standard().list().map(\.name)
        #expect(names.contains("overview") && names.contains("overview-video") && names.contains("overview-audio"))
        #expect(throws: GraphError.self) { try library.resolve("no-such-pipeline") }
    }
}

/// A source that sleeps 1.5 s without looking at its cancel token for inputs named `stuck*`
/// (as a decoder blocked in a C read would) and ends at once for the others.
final class SleepingSource: SourceStage {
    let path: String?
    init(path: String?) { self.path = path }
    var inputTypes: [PortType] { [] }
    var outputType: PortType? { .audio }
    func produce(into output: StageOutput) throws {
        if path.map({ ($0 as NSString).lastPathComponent.hasPrefix("stuck") }) == true { Thread.sleep(forTimeInterval: 1.5) }
    }
}

@Suite("kino process (binary)")
struct ProcessCommandTests {
    @Test("SIGINT stops the run, exit status 130, output left .incomplete")
    func interrupt() throws {
        let binary = try #require(KinoBinary.path, "build the kino product first (swift build)")
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["process", Repository.sample("clip720.mp4"), "-o", directory.file("out")]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: directory.file("out/clip720.incomplete/thumbnails")), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(!FileManager.default.fileExists(atPath: directory.file("out/clip720")))
        #expect(try FileSummary.read(from: directory.file("out/clip720.incomplete/summary.json")).status == .cancelled)
    }

    @Test("a file that is not media makes the exit status 1; the others are still processed")
    func exitStatus() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        try TinyMedia.writeCorrupt(to: directory.file("bad.wav"))
        let result = try runKino(["process", directory.file("bad.wav"), Repository.sample("speech.wav"),
                                  "-o", directory.file("out")])
        #expect(result.status == 1)
        #expect(result.errors.contains("bad.wav: rejected in stage 'probe'"))
        #expect(result.errors.contains("1 of 2 file(s) failed"))
        #expect(result.errors.contains("speech.wav: started (8.0 s of media)"))   // plain lines: stderr is a pipe
        #expect(!result.errors.contains("\r"))
        #expect(try FileSummary.read(from: directory.file("out/speech/summary.json")).status == .completed)
    }

    @Test("pipeline check prints stages and edges, or the error with its line")
    func pipelineCheck() throws {
        let good = try runKino(["pipeline", "check", "overview-audio"])
        #expect(good.status == 0)
        #expect(good.output.contains("audio → windows") && good.output.contains("stages (8)"))
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        try "name: x\nstages:\n  - {id: a, kind: decode}\n  - {id: b, kind: nope, inputs: [a]}\n"
            .write(toFile: directory.file("bad.yaml"), atomically: true, encoding: .utf8)
        let bad = try runKino(["pipeline", "check", directory.file("bad.yaml")])
        #expect(bad.status == 1)
        #expect(bad.errors.contains("line 4: stage 'b' has unknown kind 'nope'"))
    }

    private func runKino(_ arguments: [String]) throws -> KinoBinary.Result { try KinoBinary.run(arguments) }
}

@Suite("Process runner: exact events")
struct ProcessExactEventsTests {
    /// `kino process` on the VFR sample must emit exactly the frames on screen at k/3 s, with the
    /// frames' own timestamps — the same answer KinoMedia's exact index gives.
    @Test("events carry the exact frames and timestamps of fps sampling on a VFR file")
    func vfrSampling() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let pipeline = directory.file("fps3.yaml")
        try """
        name: fps3
        stages:
          - {id: video, kind: decode, options: {width: 64, height: 48}}
          - {id: sample, kind: sample, inputs: [video], options: {mode: fps, fps: 3}}
          - {id: facts, kind: measure, inputs: [sample]}
          - {id: out, kind: jsonl, inputs: [facts], options: {path: frames.jsonl}}
        """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let out = directory.file("out")
        let summaries = ProcessRunner(options: options(out, pipeline: pipeline)).run([Repository.sample("vfr.mp4")])
        #expect(summaries.first?.status == .completed)

        let index = try VideoDecoder(path: Repository.sample("vfr.mp4")).frameIndex()
        let expected = try FrameSelection.rate(3).resolve(in: index)
        let lines = try String(contentsOfFile: "\(out)/vfr/frames.jsonl", encoding: .utf8).split(separator: "\n")
        let events = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let got = events.map { (($0["payload"] as! [String: Any])["index"] as! Double, $0["start"] as! Double) }
        #expect(got.map { Int($0.0) } == expected)
        for (i, (_, start)) in zip(expected, got) {
            #expect(abs(start - index.seconds(i)) < 1e-9, "frame \(i)")
        }
        #expect(expected.count == 18)   // 6 s at 3 per second
    }
}
