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
