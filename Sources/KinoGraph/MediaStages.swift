import Foundation
import KinoMedia

/// Decodes the video stream of a file into frames, preceded by what is known of the stream.
///
/// The file is opened when the run starts, not when the graph is built, so checking a
/// pipeline never touches media. With `exactCount`, the packet index is scanned first (no
/// decoding) so the frame count in the ``SourceInfo`` is exact even when the header lies.
public final class VideoDecodeSource: SourceStage {
    public let path: String
    public let options: VideoDecodeOptions
    public let exactCount: Bool

    public init(path: String, options: VideoDecodeOptions = VideoDecodeOptions(), exactCount: Bool = true) {
        self.path = path
        self.options = options
        self.exactCount = exactCount
    }

    public var inputTypes: [PortType] { [] }
    public var outputType: PortType? { .video }
    public var isHeavy: Bool { true }

    /// When every consumer is a ``SampleStage``: those samplers, so frames none of them keeps
    /// are decoded for their timestamps but never scaled or converted (set by ``GraphBuilder``).
    let samplers = Locked<[SampleStage]?>(nil)
    /// Frames converted in the last run (for tests and statistics).
    public var convertedFrames: Int { converted.current }
    private let converted = Locked(0)

    /// - Throws: `MediaError` when the file cannot be opened or decoded.
    public func produce(into output: StageOutput) throws {
        let decoder = try VideoDecoder(path: path, options: options)
        defer { output.recordDecoding(stream: "video:\(decoder.info.index)", decoder.health) }
        let stream = decoder.info
        let index = exactCount ? try decoder.frameIndex() : nil
        let count = index?.count ?? (stream.frameCount ?? stream.headerFrameCount)
        let rate = stream.averageFrameRate.flatMap { $0.isValid ? $0.doubleValue : nil }
        let info = SourceInfo(frameCount: count.flatMap { $0 > 0 ? $0 : nil },
                              duration: stream.duration > 0 ? stream.duration : nil, frameRate: rate)
        output.emit(.info(info))
        converted.withLock { $0 = 0 }
        guard let index, index.hasPresentationTimestamps, options.convert, let samplers = samplers.current else {
            while !output.isCancelled, let frame = try decoder.nextFrame() {
                converted.withLock { $0 += 1 }
                output.emit(.frame(frame))
            }
            return
        }
        try producePlanned(decoder, index: index, info: info, samplers: samplers, into: output)
    }

    /// Decodes every frame but converts only those the samplers will keep, as predicted from the
    /// packet index. The prediction is checked frame by frame against what the decoder really
    /// gives (index, timestamp, duration); a skipped frame is held back until the next frame has
    /// confirmed it (the fps sampler decides on a frame when it sees the next one's time), and from
    /// the first disagreement on (say, a damaged frame the decoder dropped) every frame is converted.
    private func producePlanned(_ decoder: VideoDecoder, index: FrameIndex, info: SourceInfo,
                                samplers: [SampleStage], into output: StageOutput) throws {
        let light = index.entries.indices.map { i in
            VideoFrame(index: i, pts: index.entries[i].pts, timeBase: index.timeBase, seconds: index.seconds(i),
                       duration: index.timeBase.seconds(index.entries[i].duration), width: 0, height: 0, layout: options.layout)
        }
        var keep = Set<Int>()
        for sampler in samplers {
            keep.formUnion(try sampler.keptIndices(of: light, info: info))
            // A clip left open at the index's end could still complete if the decoder delivered
            // more frames than the index lists, and its frames would already have gone out without
            // pixels: keep the last clip span converted.
            if case .clips(let spec) = sampler.mode { keep.formUnion(max(0, light.count - spec.span)..<light.count) }
        }
        var trusted = true
        var pending: VideoFrame?
        func send(_ frame: VideoFrame) throws {
            var frame = frame
            if frame.isUnconverted && !trusted { try decoder.convertDeferred(&frame) }
            if !frame.isUnconverted { converted.withLock { $0 += 1 } }
            output.emit(.frame(frame))
        }
        while !output.isCancelled, let frame = try decoder.nextFrame(convertIf: { i, _ in !trusted || keep.contains(i) }) {
            let i = frame.index
            if trusted && (i >= light.count || frame.pts != light[i].pts || frame.duration != light[i].duration) {
                trusted = false
            }
            if let p = pending { try send(p); pending = nil }
            if frame.isUnconverted && trusted { pending = frame } else { try send(frame) }
        }
        if let p = pending {
            if output.isCancelled { return }
            // The stream must have ended where the index said, or the tail decision may differ.
            if p.index != light.count - 1 { trusted = false }
            try send(p)
        }
    }
}

/// Decodes the audio of a file into timestamped chunks at a chosen rate.
///
/// Resampling and down-mixing happen in the decoder; use the `audio` stage to re-cut the
/// chunks into windows.
public final class AudioDecodeSource: SourceStage {
    public let path: String
    public let sampleRate: Int?
    public let mono: Bool
    public let chunkFrames: Int

    public init(path: String, sampleRate: Int? = nil, mono: Bool = true, chunkFrames: Int = 16000) {
        self.path = path
        self.sampleRate = sampleRate
        self.mono = mono
        self.chunkFrames = chunkFrames
    }

    public var inputTypes: [PortType] { [] }
    public var outputType: PortType? { .audio }

    /// - Throws: `MediaError` when the file cannot be opened or decoded.
    public func produce(into output: StageOutput) throws {
        let decoder = try AudioDecoder(path: path, sampleRate: sampleRate, mono: mono, chunkFrames: chunkFrames)
        defer { output.recordDecoding(stream: "audio:\(decoder.streamIndex)", decoder.health) }
        output.emit(.info(SourceInfo(sampleRate: decoder.sampleRate)))
        while !output.isCancelled, let chunk = try decoder.nextChunk() {
            output.emit(.audio(chunk))
        }
    }
}

/// Writes each frame as a PNG or JPEG file named after its index: `frame-000042.png`.
///
/// Each image is written atomically by KinoMedia; the directory is reported as incomplete
/// when the run did not finish.
public final class ImageFramesSink: ProcessingStage {
    public let directory: String
    /// `png` or `jpg`.
    public let format: String
    public let quality: Int

    public init(directory: String, format: String = "png", quality: Int = 90) {
        self.directory = directory
        self.format = format
        self.quality = quality
    }

    public var inputTypes: [PortType] { [.video] }
    public var outputType: PortType? { nil }
    public var isHeavy: Bool { true }

    /// The file a frame goes to.
    public func path(for frame: VideoFrame) -> String {
        "\(directory)/frame-\(String(format: "%06d", frame.index)).\(format)"
    }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .videoFrame(let frame) = packet.payload else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ImageFile.write(frame, to: path(for: frame), quality: quality)
    }

    public func finish(output: StageOutput) throws {
        output.recordFile(directory, complete: !output.isCancelled)
    }
}

/// Encodes frames into an H.264 MP4 or an animated GIF (by the path's extension).
///
/// The encoder opens on the first frame, whose size fixes the video's. With `keepTimes`,
/// each frame is placed at its own time less the first frame's, so sampled frames keep
/// their spacing; otherwise frames follow one another at `fps`. A run that does not finish
/// leaves `path.incomplete`.
public final class VideoFileSink: ProcessingStage {
    public let path: String
    public let fps: Double?
    public let keepTimes: Bool
    public let options: VideoEncodeOptions
    private let state = Locked<(encoder: VideoEncoder?, firstTime: Double, rate: Double?)>((nil, 0, nil))

    /// - Parameter fps: nominal rate; `nil` takes the source's rate, else 30.
    public init(path: String, fps: Double? = nil, keepTimes: Bool = true, options: VideoEncodeOptions = .init()) {
        self.path = path
        self.fps = fps
        self.keepTimes = keepTimes
        self.options = options
    }

    public var inputTypes: [PortType] { [.video] }
    public var outputType: PortType? { nil }
    public var isHeavy: Bool { true }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {
        state.withLock { if $0.rate == nil { $0.rate = info.frameRate } }
    }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .videoFrame(let frame) = packet.payload else { return }
        try state.withLock { s in
            if s.encoder == nil {
                try FileManager.default.createDirectory(
                    atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                    withIntermediateDirectories: true)
                s.encoder = try VideoEncoder(path: path, width: frame.width, height: frame.height,
                                             fps: Self.rational(fps ?? s.rate ?? 30), options: options)
                s.firstTime = frame.seconds
            }
            try s.encoder!.append(frame, seconds: keepTimes ? frame.seconds - s.firstTime : nil)
        }
    }

    public func finish(output: StageOutput) throws {
        guard let encoder = state.withLock({ $0.encoder }) else { return }
        try encoder.finish()
        var final = path
        if output.isCancelled {
            final = path + ".incomplete"
            if FileManager.default.fileExists(atPath: final) { try FileManager.default.removeItem(atPath: final) }
            try FileManager.default.moveItem(atPath: path, toPath: final)
        }
        output.recordFile(final, complete: !output.isCancelled)
    }

    /// A frame rate as a fraction: whole rates exactly, others to a thousandth.
    static func rational(_ fps: Double) -> Rational {
        fps == fps.rounded() ? Rational(Int64(fps), 1) : Rational(Int64((fps * 1000).rounded()), 1000)
    }
}

