import Foundation
import Testing
import KinoMedia
import KinoTestSupport

/// Clips shared by the exactness tests, written once per test process.
enum Clips {
    static let directory = TemporaryDirectory("kino-exact")
    /// 320 frames, one keyframe every 260 frames, 3 B-frames.
    static let longGOP: String = {
        let path = directory.file("longgop.mp4")
        try! SyntheticVideo.writeClip(to: path, count: 320, gop: 260, bFrames: 3)
        return path
    }()
    /// Variable frame rate: gaps cycle through 1, 2 and 3 ticks of 1/30 s.
    static let vfrTimes: [Double] = {
        var t = 0.0, times: [Double] = []
        for i in 0..<90 { times.append(t); t += Double(i % 3 + 1) / 30 }
        return times
    }()
    static let vfr: String = {
        let path = directory.file("vfr.mp4")
        try! SyntheticVideo.writeClip(to: path, count: 90, gop: 40, bFrames: 2, times: vfrTimes)
        return path
    }()
    /// The long-GOP clip remuxed to Matroska (no decode timestamps in the container).
    static let mkv: String = {
        let path = directory.file("longgop.mkv")
        _ = try! runTool("ffmpeg", ["-v", "error", "-y", "-i", longGOP, "-c", "copy", path])
        return path
    }()
    /// The long-GOP clip in AVI: decode timestamps only, and a header frame count in 1/60 s ticks.
    static let avi: String = {
        let path = directory.file("longgop.avi")
        _ = try! runTool("ffmpeg", ["-v", "error", "-y", "-i", longGOP, "-c", "copy", path])
        return path
    }()
    /// No B-frames, remuxed to Matroska with frame 11 given frame 10's timestamp.
    static let duplicate: String = {
        let plain = directory.file("plain.mp4"), path = directory.file("duplicate.mkv")
        try! SyntheticVideo.writeClip(to: plain, count: 60, gop: 20, bFrames: 0)
        _ = try! runTool("ffmpeg", ["-v", "error", "-y", "-i", plain, "-c", "copy",
                                    "-bsf:v", "setts=ts=if(eq(N\\,11)\\,PREV_INPTS\\,PTS)", path])
        return path
    }()
    /// The long-GOP clip with every timestamp shifted 1 s negative.
    static let negative: String = {
        let path = directory.file("negative.mp4")
        _ = try! runTool("ffmpeg", ["-v", "error", "-y", "-i", longGOP, "-c", "copy", "-output_ts_offset", "-1",
                                    "-avoid_negative_ts", "disabled", path])
        return path
    }()
}

@Suite struct FrameExactnessTests {
    @Test(arguments: ["longGOP", "vfr", "mkv", "avi", "negative"])
    func randomOrderByIndex(clip: String) throws {
        let path = ["longGOP": Clips.longGOP, "vfr": Clips.vfr, "mkv": Clips.mkv, "avi": Clips.avi,
                    "negative": Clips.negative][clip]!
        let decoder = try VideoDecoder(path: path)
        let count = try decoder.frameIndex().count
        let offset = clip == "negative" ? 30 : 0
        #expect(count == (clip == "vfr" ? 90 : 320 - offset))
        var rng = SplitMix(seed: 7)
        var order = (0..<count).filter { _ in rng.next() % 6 == 0 }
        order.shuffle(using: &rng)
        for i in order {
            let frame = try decoder.frame(at: i)
            #expect(frame.index == i)
            #expect(SyntheticVideo.decodeIndex(frame) == i + offset, "asked for frame \(i) of \(clip)")
        }
    }

    @Test func forwardsAndBackwardsAcrossTheKeyframe() throws {
        let decoder = try VideoDecoder(path: Clips.longGOP)
        let indices = Array(250...275) + Array((250...275).reversed()) + [0, 319, 1, 318, 259, 260, 261]
        for i in indices {
            #expect(SyntheticVideo.decodeIndex(try decoder.frame(at: i)) == i)
        }
    }

    @Test func byTimestampOnVariableFrameRate() throws {
        let decoder = try VideoDecoder(path: Clips.vfr)
        let index = try decoder.frameIndex()
        for i in stride(from: 0, to: 90, by: 7).reversed() {
            let t = Clips.vfrTimes[i]
            #expect(abs(index.seconds(i) - t) < 1e-4)
            // Exactly at the frame's time, and just before the next frame starts.
            #expect(SyntheticVideo.decodeIndex(try decoder.frame(atSeconds: t)) == i)
            if i + 1 < 90 {
                let late = Clips.vfrTimes[i + 1] - 0.004
                let frame = try decoder.frame(atSeconds: late)
                #expect(SyntheticVideo.decodeIndex(frame) == i)
                #expect(abs(frame.seconds - t) < 1e-4)
            }
        }
    }

    /// Shifting an MP4 1 s negative makes an edit list hide the first 30 frames: they are decoded
    /// as references but never shown, so the index must not count them (as `ffmpeg -i` does not).
    @Test func editListHiddenFramesAreNotFrames() throws {
        let decoder = try VideoDecoder(path: Clips.negative)
        let index = try decoder.frameIndex()
        #expect(index.count == 290)
        #expect(index.entries.contains { $0.dts < 0 })
        let first = try decoder.frame(at: 0)
        #expect(abs(first.seconds) < 0.002)
        #expect(SyntheticVideo.decodeIndex(first) == 30)
        #expect(SyntheticVideo.decodeIndex(try decoder.frame(atSeconds: 1.0)) == 60)
        var n = 0
        let sequential = try VideoDecoder(path: Clips.negative, options: VideoDecodeOptions(convert: false))
        while try sequential.nextFrame() != nil { n += 1 }
        #expect(n == 290)
    }

    @Test func duplicateTimestampsAreToldApartByOrder() throws {
        let decoder = try VideoDecoder(path: Clips.duplicate)
        let index = try decoder.frameIndex()
        #expect(index.count == 60)
        #expect(index.entries[10].pts == index.entries[11].pts)
        for i in [12, 11, 10, 11, 59, 0, 10] {
            #expect(SyntheticVideo.decodeIndex(try decoder.frame(at: i)) == i)
        }
    }

    @Test func sequentialDecodeMatchesTheIndex() throws {
        let decoder = try VideoDecoder(path: Clips.longGOP, options: VideoDecodeOptions(layout: .gray8))
        let index = try decoder.frameIndex()
        var n = 0
        while let frame = try decoder.nextFrame() {
            #expect(SyntheticVideo.decodeIndex(frame) == n)
            #expect(frame.pts == index.entries[n].pts)
            n += 1
        }
        #expect(n == 320)
    }

    @Test func probeReportsExactCountAndKeyframes() throws {
        let info = try MediaProbe.probe(Clips.longGOP)
        let video = try #require(info.video)
        #expect(video.frameCount == 320)
        #expect(video.keyframeIndices == [0, 260])
        #expect(video.hasReordering == true)
        #expect(video.codec == "h264")
        #expect(video.pixelFormat == "yuv420p")
        // AVI's header counts 1/60 s ticks: twice the real number of frames. The scan is not fooled.
        let avi = try #require(try MediaProbe.probe(Clips.avi).video)
        #expect(avi.headerFrameCount == 640)
        #expect(avi.frameCount == 320)
        let vfr = try #require(try MediaProbe.probe(Clips.vfr).video)
        #expect(vfr.variableFrameRate == true)
    }

    @Test func selectionsResolveToExactFrames() throws {
        let decoder = try VideoDecoder(path: Clips.longGOP)
        let index = try decoder.frameIndex()
        // ⌊k·319/4⌋, the rule of the pipeline's uniform sampler.
        #expect(try FrameSelection.count(5).resolve(in: index) == [0, 79, 159, 239, 319])
        #expect(try FrameSelection.rate(1).resolve(in: index) == stride(from: 0, to: 320, by: 30).map { $0 })
        #expect(try FrameSelection.times([1.5, 3.0]).resolve(in: index) == [45, 90])
        #expect(throws: MediaError.self) { try FrameSelection.indices([320]).resolve(in: index) }
        #expect(throws: MediaError.self) { try decoder.frame(at: -1) }
        #expect(throws: MediaError.self) { try decoder.frame(atSeconds: 99) }
    }

    @Test(arguments: [ResizeMode.stretch, .shortSideCrop, .fit])
    func resizeModesGiveTheDocumentedSize(mode: ResizeMode) throws {
        let decoder = try VideoDecoder(path: Clips.vfr, options: VideoDecodeOptions(width: 100, height: 100, resize: mode))
        let frame = try decoder.frame(at: 3)
        let expected = mode == .fit ? (100, 75) : (100, 100)
        #expect(frame.width == expected.0 && frame.height == expected.1)
        #expect(frame.bytes.count == frame.width * frame.height * 3)
        let planar = try VideoDecoder(path: Clips.vfr, options: VideoDecodeOptions(shortSide: 60, layout: .rgbPlanarFloat)).frame(at: 3)
        #expect(planar.width == 80 && planar.height == 60)
        #expect(planar.floats.count == 80 * 60 * 3 && planar.floats.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

/// A tiny deterministic generator for test orderings.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
