import Foundation
import KinoMedia

/// A video source that generates frames in memory, for tests and for trying pipelines
/// without a media file.
///
/// Frame i has pts i in time base 1/fps, time i/fps, and every pixel byte equal to i mod 256,
/// so a test can tell frames apart by their content as well as by their index.
public final class SyntheticVideoSource: SourceStage {
    public let count: Int
    public let fps: Int
    public let width: Int
    public let height: Int
    /// Whether to send a ``SourceInfo`` with the frame count first.
    public let sendsInfo: Bool

    public init(count: Int, fps: Int = 30, width: Int = 8, height: Int = 8, sendsInfo: Bool = true) {
        precondition(count >= 0 && fps > 0 && width > 0 && height > 0, "invalid synthetic video")
        self.count = count
        self.fps = fps
        self.width = width
        self.height = height
        self.sendsInfo = sendsInfo
    }

    public var inputTypes: [PortType] { [] }
    public var outputType: PortType? { .video }

    /// The frame this source makes at position `index`.
    public func frame(_ index: Int) -> VideoFrame {
        let timeBase = Rational(1, Int64(fps))
        return VideoFrame(index: index, pts: Int64(index), timeBase: timeBase,
                          seconds: timeBase.seconds(Int64(index)), duration: 1 / Double(fps),
                          width: width, height: height, layout: .rgb24,
                          bytes: [UInt8](repeating: UInt8(index % 256), count: width * height * 3))
    }

    public func produce(into output: StageOutput) throws {
        if sendsInfo {
            output.emit(.info(SourceInfo(frameCount: count, duration: Double(count) / Double(fps),
                                         frameRate: Double(fps))))
        }
        for i in 0..<count {
            if output.isCancelled { return }
            output.emit(.frame(frame(i)))
        }
    }
}

/// An audio source that generates a sine tone in memory, in chunks of fixed size.
///
/// The last chunk is shorter when `seconds × sampleRate` is not a multiple of `chunkFrames`,
/// as a real decoder's would be.
public final class SyntheticAudioSource: SourceStage {
    public let seconds: Double
    public let sampleRate: Int
    public let channels: Int
    public let chunkFrames: Int
    public let frequency: Double

    public init(seconds: Double, sampleRate: Int = 16000, channels: Int = 1, chunkFrames: Int = 4000,
                frequency: Double = 440) {
        precondition(seconds >= 0 && sampleRate > 0 && channels > 0 && chunkFrames > 0, "invalid synthetic audio")
        self.seconds = seconds
        self.sampleRate = sampleRate
        self.channels = channels
        self.chunkFrames = chunkFrames
        self.frequency = frequency
    }

    public var inputTypes: [PortType] { [] }
    public var outputType: PortType? { .audio }

    /// Total sample frames generated.
    public var totalFrames: Int { Int((seconds * Double(sampleRate)).rounded()) }

    /// Sample value at frame `n` (every channel carries the same tone).
    public func sample(_ n: Int) -> Float {
        Float(sin(2 * Double.pi * frequency * Double(n) / Double(sampleRate)))
    }

    public func produce(into output: StageOutput) throws {
        output.emit(.info(SourceInfo(duration: seconds, sampleRate: sampleRate)))
        var start = 0
        while start < totalFrames {
            if output.isCancelled { return }
            let n = min(chunkFrames, totalFrames - start)
            var samples = [Float](repeating: 0, count: n * channels)
            for f in 0..<n {
                let v = sample(start + f)
                for c in 0..<channels { samples[f * channels + c] = v }
            }
            output.emit(.audio(AudioChunk(seconds: Double(start) / Double(sampleRate), sampleRate: sampleRate,
                                          channels: channels, samples: samples)))
            start += n
        }
    }
}

/// Turns any packet into an event with a few cheap facts about it.
///
/// A stand-in for model stages while those are being written, and a quick way to see what a
/// pipeline produces: frames give their index and mean level, clips their index range and
/// padding, audio its RMS and peak, frame pairs the mean absolute difference.
public final class MeasureStage: ProcessingStage {
    public init() {}

    public var inputTypes: [PortType] { [.any] }
    public var outputType: PortType? { .event }
    public var isStateless: Bool { true }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        let (end, payload) = Self.measure(packet.payload, at: packet.seconds)
        output.emit(.event(Event(stage: output.stageID, start: packet.seconds, end: end, payload: payload)))
    }

    private static func measure(_ payload: Payload, at seconds: Double) -> (Double, [String: JSONValue]) {
        switch payload {
        case .videoFrame(let f):
            return (seconds + f.duration, ["type": "frame", "index": .number(Double(f.index)), "mean": .number(mean(f))])
        case .clip(let c):
            return (c.endSeconds, ["type": "clip", "first": .number(Double(c.frames.first?.index ?? 0)),
                                   "last": .number(Double(c.frames.last?.index ?? 0)),
                                   "frames": .number(Double(c.frames.count)),
                                   "padded": .number(Double(c.paddedCount))])
        case .audioChunk(let a):
            let squares = a.samples.reduce(0) { $0 + Double($1) * Double($1) }
            let rms = a.samples.isEmpty ? 0 : (squares / Double(a.samples.count)).squareRoot()
            let peak = a.samples.reduce(0) { max($0, abs(Double($1))) }
            let end = seconds + Double(a.frameCount) / Double(max(1, a.sampleRate))
            return (end, ["type": "audio", "rms": .number(rms), "peak": .number(peak)])
        case .framePair(let a, let b):
            let n = min(a.bytes.count, b.bytes.count)
            var total = 0
            for i in 0..<n { total += abs(Int(a.bytes[i]) - Int(b.bytes[i])) }
            return (b.seconds, ["type": "pair", "first": .number(Double(a.index)), "second": .number(Double(b.index)),
                                "mean_abs_diff": .number(n == 0 ? 0 : Double(total) / Double(n))])
        case .event(let e):
            return (e.end, ["type": "event", "from": .string(e.stage)])
        case .spectrogram(let b):
            // Mean log-mel energy of the real rows, and the loudest frame's mean: a coarse loudness trace.
            var total: Double = 0, loudest = -Double.infinity
            for f in 0..<b.validFrames {
                let row = b.features.row(f)
                let m = row.reduce(0) { $0 + Double($1) } / Double(max(1, row.count))
                total += m
                loudest = max(loudest, m)
            }
            return (b.endSeconds, ["type": "spectrogram", "kind": .string(b.kind.rawValue),
                                   "frames": .number(Double(b.validFrames)),
                                   "mean": .number(b.validFrames == 0 ? 0 : total / Double(b.validFrames)),
                                   "loudest_frame_mean": b.validFrames == 0 ? .null : .number(loudest)])
        case .joined(_, let b):
            return (seconds, ["type": "joined", "matched": .bool(b != nil),
                              "second_time": b.map { .number($0.seconds) } ?? .null])
        case .info:
            return (seconds, ["type": "info"])
        }
    }

    private static func mean(_ frame: VideoFrame) -> Double {
        if !frame.bytes.isEmpty { return Double(frame.bytes.reduce(0) { $0 + Int($1) }) / Double(frame.bytes.count) }
        if !frame.floats.isEmpty { return Double(frame.floats.reduce(0, +)) / Double(frame.floats.count) }
        return 0
    }
}

