import Foundation
import Testing
import KinoMedia
import KinoTestSupport

/// Samples the `ffmpeg` CLI writes for `-ar rate -ac channels -f f32le`.
func ffmpegSamples(_ path: String, rate: Int, channels: Int) throws -> [Float] {
    let data = try runTool("ffmpeg", ["-v", "error", "-i", path, "-vn", "-ar", String(rate), "-ac", String(channels), "-f", "f32le", "-"])
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

@Suite struct AudioTests {
    struct Case: Sendable, CustomStringConvertible {
        var file: String, rate: Int, mono: Bool, backend: AudioBackend
        var description: String { "\(file) \(rate) Hz \(mono ? "mono" : "kept") \(backend.rawValue)" }
    }

    static let cases: [Case] = [
        Case(file: "clip720.mp4", rate: 16000, mono: true, backend: .auto),      // AAC stereo 48 k → 16 k mono
        Case(file: "clip720.mp4", rate: 48000, mono: false, backend: .auto),     // no conversion
        Case(file: "music.flac", rate: 16000, mono: true, backend: .auto),       // libsndfile + swresample
        Case(file: "music.flac", rate: 22050, mono: false, backend: .ffmpeg),
        Case(file: "speech.wav", rate: 16000, mono: true, backend: .sndfile),    // native rate
        Case(file: "speech.wav", rate: 8000, mono: true, backend: .auto),
    ]

    @Test(arguments: cases)
    func matchesTheFFmpegCLI(_ c: Case) throws {
        let path = Repository.sample(c.file)
        let decoded = try AudioDecoder.decodeAll(path: path, sampleRate: c.rate, mono: c.mono, backend: c.backend)
        let reference = try ffmpegSamples(path, rate: c.rate, channels: decoded.channels)
        #expect(decoded.sampleRate == c.rate)
        #expect(decoded.samples.count == reference.count)
        var maxError: Float = 0
        for i in 0..<min(decoded.samples.count, reference.count) {
            maxError = max(maxError, abs(decoded.samples[i] - reference[i]))
        }
        #expect(maxError <= 1e-6, "max |Δ| = \(maxError)")
    }

    @Test func chunksCarryContinuousTimestamps() throws {
        let decoder = try AudioDecoder(path: Repository.sample("speech.wav"), sampleRate: 16000, chunkFrames: 4000)
        #expect(decoder.backend == .sndfile)
        var expected = 0.0
        var total = 0
        while let chunk = try decoder.nextChunk() {
            #expect(abs(chunk.seconds - expected) < 1e-9)
            #expect(chunk.frameCount <= 4000)
            expected += Double(chunk.frameCount) / 16000
            total += chunk.frameCount
        }
        #expect(total == 128_110)   // `soxi -s samples/speech.wav`
    }

    @Test func videoWithoutAudioSaysSo() throws {
        #expect {
            try AudioDecoder(path: Repository.sample("longgop.mp4"))
        } throws: { ($0 as? MediaError)?.kind == .noStream }
    }
}
