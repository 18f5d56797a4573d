import Foundation
import Testing
import KinoMedia
import KinoTestSupport

/// A smooth moving picture (gradients and a soft blob) that a good encoder keeps above 40 dB.
func smoothPicture(_ t: Int, width: Int = 256, height: Int = 144) -> VideoFrame {
    var bytes = [UInt8](repeating: 0, count: width * height * 3)
    let cx = Double(40 + 4 * t), cy = Double(height / 2)
    for y in 0..<height {
        for x in 0..<width {
            let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)) / 800
            let blob = 120 * exp(-d)
            let o = 3 * (y * width + x)
            bytes[o] = UInt8(min(255, Double(x) * 0.6 + blob))
            bytes[o + 1] = UInt8(min(255, Double(y) * 1.2 + blob * 0.5))
            bytes[o + 2] = UInt8(min(255, 200 - Double(x) * 0.3))
        }
    }
    return VideoFrame(index: t, pts: 0, timeBase: Rational(1, 1), seconds: 0, width: width, height: height,
                      layout: .rgb24, bytes: bytes)
}

func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count)
    var se = 0.0
    for i in a.indices { let d = Double(a[i]) - Double(b[i]); se += d * d }
    let mse = se / Double(a.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

@Suite struct EncodeRoundTripTests {
    @Test func h264RoundTripAbove40dB() throws {
        let dir = TemporaryDirectory("kino-enc")
        defer { dir.cleanup() }
        let path = dir.file("smooth.mp4")
        let encoder = try VideoEncoder(path: path, width: 256, height: 144, fps: Rational(25, 1),
                                       options: VideoEncodeOptions(crf: 16, preset: "veryfast", gop: 12, threads: 1))
        for t in 0..<20 { try encoder.append(smoothPicture(t)) }
        try encoder.finish()

        let info = try MediaProbe.probe(path)
        let video = try #require(info.video)
        #expect(video.codec == "h264")
        #expect(video.pixelFormat == "yuv420p")
        #expect(video.frameCount == 20)
        #expect(video.averageFrameRate == Rational(25, 1))
        // +faststart: the movie header comes before the media data.
        let head = try #require(FileHandle(forReadingAtPath: path)).readData(ofLength: 4096)
        let moov = head.range(of: Data("moov".utf8)), mdat = head.range(of: Data("mdat".utf8))
        #expect(moov != nil && (mdat == nil || moov!.lowerBound < mdat!.lowerBound))

        let decoder = try VideoDecoder(path: path)
        for t in [0, 7, 19] {
            let frame = try decoder.frame(at: t)
            #expect(abs(frame.seconds - Double(t) / 25) < 1e-6)
            let quality = psnr(frame.bytes, smoothPicture(t).bytes)
            #expect(quality > 40, "frame \(t): \(quality) dB")
        }
    }

    @Test func oddSizesArePaddedToEven() throws {
        let dir = TemporaryDirectory("kino-enc")
        defer { dir.cleanup() }
        let path = dir.file("odd.mp4")
        let encoder = try VideoEncoder(path: path, width: 255, height: 143, fps: Rational(10, 1))
        var frame = smoothPicture(0, width: 255, height: 143)
        frame.index = 0
        try encoder.append(frame)
        try encoder.finish()
        let video = try #require(try MediaProbe.probe(path).video)
        #expect(video.width == 256 && video.height == 144)
    }

    @Test func gifRoundTrip() throws {
        let dir = TemporaryDirectory("kino-enc")
        defer { dir.cleanup() }
        let path = dir.file("anim.gif")
        let encoder = try VideoEncoder(path: path, width: 256, height: 144, fps: Rational(10, 1))
        for t in 0..<5 { try encoder.append(smoothPicture(t)) }
        // A flat picture of 6 colours after the gradients: its own palette reproduces it exactly.
        var flat = smoothPicture(0)
        let colours: [[UInt8]] = [[0, 0, 0], [255, 255, 255], [200, 30, 40], [20, 180, 60], [30, 60, 220], [8, 4, 4]]   // black and (8,4,4) share a cell centre's neighbourhood
        for y in 0..<144 { for x in 0..<256 {
            let c = colours[(x / 43 + y / 72 * 3) % 6]
            for ch in 0..<3 { flat.bytes[3 * (y * 256 + x) + ch] = c[ch] }
        } }
        try encoder.append(flat)
        try encoder.finish()
        let video = try #require(try MediaProbe.probe(path).video)
        #expect(video.codec == "gif")
        #expect(video.frameCount == 6)
        let decoder = try VideoDecoder(path: path)
        for t in 0..<5 {
            // Median-cut palette per frame, nearest colour: measured 36.4–37.4 dB (the fixed
            // 6×7×6 cube with ordered dither it replaced gave 22.1 dB).
            let quality = psnr(try decoder.frame(at: t).bytes, smoothPicture(t).bytes)
            #expect(quality > 35, "frame \(t): \(quality) dB")
        }
        #expect(try decoder.frame(at: 5).bytes == flat.bytes)
    }

    @Test func interruptedEncodeLeavesNothing() throws {
        let dir = TemporaryDirectory("kino-enc")
        defer { dir.cleanup() }
        let path = dir.file("never.mp4")
        do {
            let encoder = try VideoEncoder(path: path, width: 64, height: 64, fps: Rational(10, 1))
            try encoder.append(smoothPicture(0, width: 64, height: 64))
            // Dropped without finish(): like a cancelled job.
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        #expect(throws: MediaError.self) { try VideoEncoder(path: dir.file("x.avi"), width: 64, height: 64, fps: Rational(10, 1)) }
        let encoder = try VideoEncoder(path: dir.file("y.mp4"), width: 64, height: 64, fps: Rational(10, 1))
        #expect(throws: MediaError.self) { try encoder.append(smoothPicture(0, width: 32, height: 32)) }
    }

    @Test func pngIsLosslessAndJPEGIsClose() throws {
        let dir = TemporaryDirectory("kino-img")
        defer { dir.cleanup() }
        let picture = smoothPicture(3)
        try ImageFile.write(picture, to: dir.file("a.png"))
        let png = try ImageFile.read(dir.file("a.png"))
        #expect(png.bytes == picture.bytes)
        try ImageFile.write(picture, to: dir.file("a.jpg"), quality: 95)
        let jpg = try ImageFile.read(dir.file("a.jpg"))
        #expect(jpg.width == 256 && jpg.height == 144)
        #expect(psnr(jpg.bytes, picture.bytes) > 35)
        let gray = try ImageFile.read(dir.file("a.png"), format: PictureFormat(width: 64, height: 36, layout: .gray8))
        #expect(gray.bytes.count == 64 * 36)
        #expect(throws: MediaError.self) { try ImageFile.write(picture, to: dir.file("a.bmpx")) }
    }
}
