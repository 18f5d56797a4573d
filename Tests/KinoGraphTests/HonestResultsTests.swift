import Foundation
import KinoGraph
import KinoMedia
import KinoTestSupport
import Testing

/// The bundled pipelines of this checkout only, so tests do not depend on the environment.
private let library = PipelineLibrary(directories: ["\(Repository.root)/pipelines"])

private func runner(_ out: String) -> ProcessRunner {
    ProcessRunner(options: ProcessOptions(outputDirectory: out, library: library, computeSlots: 2))
}

/// Every output a summary lists exists, relative to the folder the summary sits in.
private func expectOutputsExist(_ summary: FileSummary, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let folder = summary.output else { return }
    for file in summary.outputs {
        #expect(!file.path.hasPrefix("/"), "absolute path \(file.path)", sourceLocation: sourceLocation)
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file.path)"), "listed but missing: \(file.path)",
                sourceLocation: sourceLocation)
    }
}

@Suite("Honest results", .serialized)
struct HonestResultsTests {
    @Test("a clean clip completes, reports no damage and no more media time than it has")
    func clean() throws {
        try DamagedMedia.made.get()
        let out = TemporaryDirectory()
        defer { out.cleanup() }
        let summary = runner(out.path).process(DamagedMedia.clean, name: "clean")
        #expect(summary.status == .completed, "\(summary.line)")
        #expect(summary.damage == nil)
        let seconds = try #require(summary.mediaSeconds)
        #expect(seconds > 3.9 && seconds <= (summary.mediaDuration ?? 0), "\(seconds)")
        #expect(summary.outputs.count >= 3)
        expectOutputsExist(summary)
        let written = try FileSummary.read(from: "\(out.path)/clean/summary.json")
        #expect(written.outputs == summary.outputs)
    }

    @Test("a file cut short is damaged, says how far it got, and keeps what it read")
    func truncated() throws {
        let input = try DamagedMedia.truncated(0.45, name: "cut.mp4")
        let out = TemporaryDirectory()
        defer { out.cleanup() }
        let summary = runner(out.path).process(input, name: "cut")
        #expect(summary.status == .damaged, "\(summary.line)")
        #expect(summary.output == "\(out.path)/cut")
        let seconds = try #require(summary.mediaSeconds)
        #expect(seconds < 3, "claims \(seconds) s of a 4 s file cut at 45 %")
        let damage = try #require(summary.damage)
        let video = try #require(damage.streams.first { $0.stream.hasPrefix("video") })
        let reached = try #require(video.reachedSeconds)
        #expect(reached < 3 && abs((video.expectedSeconds ?? 0) - 4) < 0.1)
        #expect(summary.line.contains("stopped at"))
        expectOutputsExist(summary)
        #expect(try FileSummary.read(from: "\(out.path)/cut/summary.json").status == .damaged)
    }

    @Test("a few hundred corrupted bytes make a damaged run with counted errors, not a completed one")
    func corrupted() throws {
        let input = try DamagedMedia.corrupted(count: 300, name: "bits.mp4")
        let out = TemporaryDirectory()
        defer { out.cleanup() }
        let summary = runner(out.path).process(input, name: "bits")
        #expect(summary.status == .damaged, "\(summary.line)")
        let damage = try #require(summary.damage)
        let errors = damage.streams.reduce(0) { $0 + $1.decodeErrors + $1.corruptFrames }
        #expect(errors > 0)
        #expect(damage.streams.allSatisfy { !$0.firstErrors.isEmpty && $0.firstErrors.count <= DecodeHealth.keptMessages })
        expectOutputsExist(summary)
    }

    @Test("a WAV header claiming 1 Hz is refused before any work, with the reason")
    func implausibleSampleRate() throws {
        let folder = TemporaryDirectory()
        defer { folder.cleanup() }
        var data = TinyMedia.wavData(seconds: 2, sampleRate: 16000)
        data.replaceSubrange(24..<28, with: [1, 0, 0, 0])
        data.replaceSubrange(28..<32, with: [2, 0, 0, 0])
        let input = folder.file("onehz.wav")
        try data.write(to: URL(fileURLWithPath: input))
        let started = Date()
        let summary = runner(folder.file("out")).process(input, name: "onehz")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(summary.status == .failed)
        #expect(summary.error?.message.contains("sample rate of 1 Hz") == true, "\(summary.line)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("out/onehz.incomplete")))
    }

    @Test("a text file is rejected (not media) and a missing file or a folder fails, all without leaving a folder")
    func nothingLeftBehind() throws {
        let folder = TemporaryDirectory()
        defer { folder.cleanup() }
        let text = folder.file("README.txt")
        try Data("not a video\n".utf8).write(to: URL(fileURLWithPath: text))
        try FileManager.default.createDirectory(atPath: folder.file("clips"), withIntermediateDirectories: false)
        let out = folder.file("out")
        let summaries = runner(out).run([text, folder.file("missing.mp4"), folder.file("clips")])
        #expect(summaries.map(\.status) == [.rejected, .failed, .failed])
        #expect(summaries.allSatisfy { $0.output == nil && $0.error?.stage == "probe" })
        #expect(summaries[1].error?.message.contains("no such file") == true)
        #expect(summaries[2].error?.message.contains("directory") == true)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("an MP4 cut before its index was written says so, instead of 'not a media file'")
    func noIndex() throws {
        let folder = TemporaryDirectory()
        defer { folder.cleanup() }
        let whole = folder.file("whole.mp4")
        _ = try runTool("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2",
                                   "-c:v", "libx264", "-pix_fmt", "yuv420p", whole])
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = folder.file("recording.mp4")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        #expect {
            try MediaProbe.probe(cut)
        } throws: { error in
            let media = error as? MediaError
            return media?.kind == .corrupt && media?.message.contains("truncated or incomplete") == true
        }
        let summary = runner(folder.file("out")).process(cut, name: "recording")
        #expect(summary.status == .failed && summary.error?.message.contains("no index") == true)
    }

    @Test("a FIFO is refused as not a regular file instead of blocking the probe")
    func fifo() throws {
        let folder = TemporaryDirectory()
        defer { folder.cleanup() }
        let fifo = folder.file("stream.mp4")
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect {
            try MediaProbe.probe(fifo)
        } throws: { error in
            (error as? MediaError)?.message.contains("not a regular file") == true
        }
    }

    @Test("kino process: a damaged file exits 3 and is listed as damaged; --accept-damaged exits 0")
    func exitStatus() throws {
        let input = try DamagedMedia.truncated(0.45, name: "cli-cut.mp4")
        let out = TemporaryDirectory()
        defer { out.cleanup() }
        let plain = try KinoBinary.run(["process", input, Repository.sample("speech.wav"), "-o", out.file("a")])
        #expect(plain.status == 3, "\(plain.errors)")
        #expect(plain.errors.contains("cli-cut.mp4: damaged in"))
        #expect(plain.errors.contains("1 of 2 file(s) damaged"))
        let accepted = try KinoBinary.run(["process", input, "--accept-damaged", "-o", out.file("b")])
        #expect(accepted.status == 0, "\(accepted.errors)")
        #expect(accepted.errors.contains("accepted (--accept-damaged)"))
    }

    @Test("a valid 4000×2 picture is refused with the sizes, not fitted into a 448,000×224 frame")
    func extremeAspect() throws {
        let folder = TemporaryDirectory()
        defer { folder.cleanup() }
        let wide = folder.file("wide.png")
        _ = try runTool("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=4000x2", "-frames:v", "1", wide])
        let before = residentMemory()
        let summary = runner(folder.file("out")).process(wide, name: "wide")
        #expect(summary.status == .failed)
        #expect(summary.error?.message.contains("would be 448000×224") == true, "\(summary.line)")
        #expect(residentMemory() - before < 500 << 20)
        let format = PictureFormat(shortSide: 224)
        #expect(throws: MediaError.self) { try format.checkBounds(sourceWidth: 4000, sourceHeight: 2) }
        #expect(throws: MediaError.self) { try format.checkBounds(sourceWidth: 1000, sourceHeight: 20) }
        try format.checkBounds(sourceWidth: 1920, sourceHeight: 1080)
        try PictureFormat(width: 224, height: 224).checkBounds(sourceWidth: 4000, sourceHeight: 2)   // an exact stretch is fine
        try PictureFormat().checkBounds(sourceWidth: 9000, sourceHeight: 9000)                      // no resize, no bound
        #expect(throws: MediaError.self) { try PictureFormat(width: 20000, height: 20000).checkBounds(sourceWidth: 64, sourceHeight: 64) }
    }
}
