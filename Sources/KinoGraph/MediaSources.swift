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

    /// - Throws: `MediaError` when the file cannot be opened or decoded.
    public func produce(into output: StageOutput) throws {
        let decoder = try VideoDecoder(path: path, options: options)
        let stream = decoder.info
        let count = exactCount ? try decoder.frameIndex().count : (stream.frameCount ?? stream.headerFrameCount)
        let rate = stream.averageFrameRate.flatMap { $0.isValid ? $0.doubleValue : nil }
        output.emit(.info(SourceInfo(frameCount: count.flatMap { $0 > 0 ? $0 : nil },
                                     duration: stream.duration > 0 ? stream.duration : nil, frameRate: rate)))
        while !output.isCancelled, let frame = try decoder.nextFrame() {
            output.emit(.frame(frame))
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
        output.emit(.info(SourceInfo(sampleRate: decoder.sampleRate)))
        while !output.isCancelled, let chunk = try decoder.nextChunk() {
            output.emit(.audio(chunk))
        }
    }
}
