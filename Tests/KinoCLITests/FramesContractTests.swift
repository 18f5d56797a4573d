import Foundation
import KinoMedia
import KinoTestSupport
import Testing

/// The rows of a `frames.jsonl`.
private func rows(_ folder: TemporaryDirectory) throws -> [[String: Any]] {
    try String(contentsOfFile: folder.file("frames.jsonl"), encoding: .utf8).split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

@Suite("kino frames: one row per request, honest about damage", .timeLimit(.minutes(2)))
struct FramesContractTests {
    @Test("a JPEG still gives its one frame")
    func jpegStill() throws {
        let dir = TemporaryDirectory("kino-frames")
        defer { dir.cleanup() }
        let r = try kino(["frames", Repository.sample("still.jpg"), "--count", "1", "-o", dir.path])
        #expect(r.status == 0, "\(r.err)")
        let list = try rows(dir)
        #expect(list.count == 1 && list[0]["file"] as? String == "frame_000000.png")
        let image = try ImageFile.read(dir.file("frame_000000.png"))
        #expect(image.width == 640 && image.height == 360)
    }

    @Test("two times on one frame give two rows, each with the time asked for")
    func repeatedTimes() throws {
        let dir = TemporaryDirectory("kino-frames")
        defer { dir.cleanup() }
        let r = try kino(["frames", Repository.sample("longgop.mp4"), "--times", "0.01,0,9.99", "-o", dir.path])
        #expect(r.status == 0, "\(r.err)")
        let list = try rows(dir)
        #expect(list.map { $0["request"] as? Int } == [0, 1, 2])
        #expect(list.map { $0["index"] as? Int } == [0, 0, 299])
        #expect(list.map { $0["requested_seconds"] as? Double } == [0.01, 0, 9.99])
        #expect(list[0]["file"] as? String == list[1]["file"] as? String)
    }

    @Test("--count N picks the frames the pipeline's uniform sampler picks, repeats included")
    func countRule() throws {
        let dir = TemporaryDirectory("kino-frames")
        defer { dir.cleanup() }
        // clip720.mp4 has 180 frames; 7 requests: ⌊k·179/6⌋.
        let r = try kino(["frames", Repository.sample("clip720.mp4"), "--count", "7", "--short-side", "32", "-o", dir.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(try rows(dir).map { $0["index"] as? Int } == [0, 29, 59, 89, 119, 149, 179])
        #expect(FrameSelection.evenlySpaced(count: 7, total: 180) == [0, 29, 59, 89, 119, 149, 179])
        #expect(FrameSelection.evenlySpaced(count: 4, total: 2) == [0, 0, 0, 1])
    }

    @Test("a file cut short exits 3 with a warning saying how far its packets go")
    func truncated() throws {
        let input = try DamagedMedia.truncated(0.45, name: "frames-cut.mp4")
        let dir = TemporaryDirectory("kino-frames")
        defer { dir.cleanup() }
        let r = try kino(["frames", input, "--count", "4", "-o", dir.path])
        #expect(r.status == 3, "\(r.err)")
        #expect(r.err.contains("declares (truncated?)"))
        #expect(try rows(dir).count == 4)
    }

    @Test("requests whose frame cannot be decoded get a row with file null and the error, and exit 3")
    func missingFrames() throws {
        let input = try DamagedMedia.corrupted(count: 9000, name: "frames-heavy.mp4")
        let dir = TemporaryDirectory("kino-frames")
        defer { dir.cleanup() }
        let r = try kino(["frames", input, "--count", "12", "-o", dir.path])
        #expect(r.status == 3, "\(r.err)")
        let list = try rows(dir)
        #expect(list.count == 12)
        let missing = list.filter { $0["file"] is NSNull }
        #expect(!missing.isEmpty, "no request went without a frame: \(r.err)")
        #expect(missing.allSatisfy { ($0["error"] as? String)?.isEmpty == false })
        for row in list { if let file = row["file"] as? String { #expect(FileManager.default.fileExists(atPath: dir.file(file))) } }
        #expect(r.out.contains("wrote \(list.count - missing.count) of 12 requested frames"))
    }
}
