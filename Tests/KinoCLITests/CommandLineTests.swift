import Foundation
import Testing
import KinoDSP
import KinoMedia
import KinoTensor
import KinoTestSupport

/// Runs the built `kino` binary.
func kino(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let r = try KinoBinary.run(arguments)
    return (r.status, r.output, r.errors)
}

/// The commands as a user runs them: real binary, real files, checked outputs.
@Suite(.timeLimit(.minutes(2))) struct CommandLineTests {
    @Test func probeJSONReportsTheScan() throws {
        let r = try kino(["probe", Repository.sample("longgop.mp4"), "--json"])
        #expect(r.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        let video = try #require((json.first?["streams"] as? [[String: Any]])?.first)
        #expect(video["frameCount"] as? Int == 600)
        #expect(video["keyframeIndices"] as? [Int] == [0, 300])
    }

    @Test func probeJSONKeepsFailedFilesWithTheirError() throws {
        let r = try kino(["probe", "--json", "--no-scan", "/nonexistent/clip.mp4", Repository.sample("vfr.mp4")])
        #expect(r.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        #expect(json.count == 2)
        #expect(json[0]["path"] as? String == "/nonexistent/clip.mp4")
        let error = try #require(json[0]["error"] as? [String: Any])
        #expect(error["kind"] as? String == "not found" && (error["message"] as? String)?.contains("no such file") == true)
        #expect(json[1]["path"] as? String == Repository.sample("vfr.mp4") && json[1]["streams"] != nil && json[1]["error"] == nil)
    }

    @Test func probeReportsABadFileAndGoesOn() throws {
        let r = try kino(["probe", "/nonexistent/clip.mp4", Repository.sample("vfr.mp4")])
        #expect(r.status == 1)
        #expect(r.err.contains("/nonexistent/clip.mp4") && r.err.contains("not found"))
        #expect(r.out.contains("vfr.mp4") && r.out.contains("variable frame rate"))
    }

    @Test func framesWritesPNGsAndJSONL() throws {
        let dir = TemporaryDirectory("kino-cli")
        defer { dir.cleanup() }
        let r = try kino(["frames", Repository.sample("longgop.mp4"), "--indices", "300,5", "--size", "160x120", "-o", dir.path])
        #expect(r.status == 0, "\(r.err)")
        let lines = try String(contentsOfFile: dir.file("frames.jsonl"), encoding: .utf8).split(separator: "\n")
        // One row per request, in the order asked.
        #expect(lines.count == 2 && lines[0].contains("\"index\":300") && lines[0].contains("\"seconds\":10,")
                && lines[1].contains("\"index\":5"))
        let frame = try ImageFile.read(dir.file("frame_000300.png"))
        #expect(frame.width == 160 && frame.height == 120)
        #expect(try kino(["frames", Repository.sample("longgop.mp4"), "--indices", "600", "-o", dir.path]).status == 1)
    }

    @Test func spectrogramASTEqualsTheLibrary() throws {
        let dir = TemporaryDirectory("kino-cli")
        defer { dir.cleanup() }
        let r = try kino(["spectrogram", Repository.sample("speech.wav"), "--ast", "-o", dir.file("a.npy"), "--png", dir.file("a.png")])
        #expect(r.status == 0, "\(r.err)")
        let saved = try NumpyFile.decode(try Data(contentsOf: URL(fileURLWithPath: dir.file("a.npy"))))
        #expect(saved.shape == [1024, 128])
        let samples = try AudioDecoder.decodeAll(path: Repository.sample("speech.wav"), sampleRate: 16000).samples
        #expect(saved.values == (try ASTFeatureExtractor()).extract(samples).values)
        let png = try ImageFile.read(dir.file("a.png"))
        #expect(png.width == 1024 && png.height == 128)
    }

    @Test func flowBetweenTwoShiftedImages() throws {
        let dir = TemporaryDirectory("kino-cli")
        defer { dir.cleanup() }
        // B shows the picture moved 3 px left and 2 px up, so A(x) ≈ B(x − (3, 2)).
        let still = try ImageFile.read(Repository.sample("still.png"))
        func crop(_ x0: Int, _ y0: Int) -> VideoFrame {
            var bytes: [UInt8] = []
            for y in 0..<200 {
                let start: Int = 3 * ((y + y0) * still.width + x0)
                bytes.append(contentsOf: still.bytes[start..<(start + 900)])
            }
            return VideoFrame(index: 0, pts: 0, timeBase: Rational(1, 1), seconds: 0, width: 300, height: 200, layout: .rgb24, bytes: bytes)
        }
        try ImageFile.write(crop(150, 80), to: dir.file("a.png"))
        try ImageFile.write(crop(153, 82), to: dir.file("b.png"))
        let r = try kino(["flow", dir.file("a.png"), dir.file("b.png"), "-o", dir.file("ab.flo"), "--viz", dir.file("ab.png"),
                          "--kitti", dir.file("kitti.png"), "--preset", "medium"])
        #expect(r.status == 0, "\(r.err)")
        let flow = try FlowField(contentsOfFlo: URL(fileURLWithPath: dir.file("ab.flo")))
        var u: [Float] = [], v: [Float] = []
        for i in 0..<(300 * 200) { u.append(flow.uv[2 * i]); v.append(flow.uv[2 * i + 1]) }
        let mu = u.sorted()[u.count / 2], mv = v.sorted()[v.count / 2]
        #expect(abs(mu + 3) < 0.25 && abs(mv + 2) < 0.25, "median flow (\(mu), \(mv))")
        let kitti = try ImageFile.readPNG16(dir.file("kitti.png"))
        #expect(kitti.rgb == flow.kittiPacked())
        let mismatch = try kino(["flow", dir.file("a.png"), Repository.sample("still.png"), "-o", dir.file("x.flo")])
        #expect(mismatch.status == 1 && mismatch.err.contains("300×200") && mismatch.err.contains("640×360"))
    }

    @Test func modelRunMatchesTheReference() throws {
        let dir = TemporaryDirectory("kino-cli")
        defer { dir.cleanup() }
        let fixture = "\(Repository.root)/Tests/KinoModelsTests/Fixtures/vit-a"
        let info = try kino(["model", "info", fixture])
        #expect(info.status == 0 && info.out.lowercased().contains("vit"))
        let r = try kino(["model", "run", "--model", fixture, "--input", "\(fixture)/reference.safetensors",
                          "--output", dir.file("out.safetensors")])
        #expect(r.status == 0, "\(r.err)")
        let got = try SafeTensorsFile(path: dir.file("out.safetensors")).tensor("logits")
        let want = try SafeTensorsFile(path: "\(fixture)/reference.safetensors").tensor("logits")
        #expect(got.shape == want.shape)
        #expect(zip(got.storage, want.storage).allSatisfy { abs($0 - $1) <= 1e-4 })
        let missing = try kino(["model", "info", dir.path])
        #expect(missing.status != 0 && missing.err.contains("config.json"))
    }
}
