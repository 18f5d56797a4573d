import CFFmpeg
import CSndFile

/// Which library reads an audio file.
public enum AudioBackend: String, Sendable, Codable, CaseIterable {
    /// libsndfile for the formats it reads (WAV, FLAC, OGG, AIFF, …), FFmpeg for everything else.
    case auto
    case ffmpeg
    case sndfile
}

/// Decodes the audio of any file to Float32 at a chosen rate, in timestamped chunks.
///
/// Resampling and down-mixing go through libswresample with FFmpeg's defaults, so the samples
/// equal what `ffmpeg -i FILE -ar RATE -ac 1 -f f32le -` writes. Not thread-safe.
public final class AudioDecoder: @unchecked Sendable {
    public let path: String
    /// The rate of the file's audio.
    public let sourceSampleRate: Int
    /// The rate of the chunks produced.
    public let sampleRate: Int
    /// Channels in the chunks produced (1 when `mono`).
    public let channels: Int
    /// Channels in the file.
    public let sourceChannels: Int
    /// The library that reads the file.
    public let backend: AudioBackend
    public let chunkFrames: Int
    /// The index of the decoded stream in the container (0 for files libsndfile reads).
    public var streamIndex: Int { (source as? FFmpegAudioSource)?.streamIndex ?? 0 }
    /// What decoding has met so far: skipped packets, damaged frames, how far it got.
    public var health: DecodeHealth { source.health }
    /// The first problems met and skipped while decoding.
    public var warnings: [String] { source.health.messages }

    private let source: any AudioSource
    private let resampler: Resampler
    private var pending: [Float] = []
    private var pendingStart = 0
    private var emittedFrames = 0
    private var startSeconds: Double?
    private var ended = false

    /// Source sample rates accepted; a header outside them is treated as damaged.
    public static let plausibleRates = 1000...768_000

    /// Opens the audio of `path`.
    /// - Parameters:
    ///   - sampleRate: Output rate; nil keeps the file's rate.
    ///   - mono: Down-mix to one channel (FFmpeg's standard matrix); otherwise keep the channels.
    ///   - chunkFrames: Sample frames per chunk (the last chunk may be shorter).
    ///   - backend: Which library reads the file.
    /// - Throws: `MediaError` when the file is missing, unreadable or has no audio.
    public init(path: String, sampleRate: Int? = nil, mono: Bool = true, chunkFrames: Int = 16000,
                backend: AudioBackend = .auto) throws {
        try validateInputPath(path, operation: "opening audio")
        guard chunkFrames > 0 else {
            throw MediaError(.invalidArgument, operation: "opening audio", path: path, message: "chunk size must be positive")
        }
        if let rate = sampleRate, rate < 1 || rate > 768_000 {
            throw MediaError(.invalidArgument, operation: "opening audio", path: path, message: "sample rate \(rate) Hz is out of range")
        }
        self.path = path
        self.chunkFrames = chunkFrames
        var chosen: (any AudioSource)? = nil
        var used = AudioBackend.ffmpeg
        if backend != .ffmpeg, let snd = SndFileSource(path: path) {
            chosen = snd
            used = .sndfile
        } else if backend == .sndfile {
            throw MediaError(.notMedia, operation: "opening audio with libsndfile", path: path,
                             message: SndFileSource.lastError(path: path))
        }
        let src = try chosen ?? FFmpegAudioSource(path: path)
        // A header may claim any rate; resampling 1 Hz "audio" to 16 kHz would turn seconds of
        // samples into days of media. No real recording is below 1 kHz.
        guard Self.plausibleRates.contains(src.sampleRate) else {
            throw MediaError(.corrupt, operation: "opening audio", path: path,
                             message: "the header gives a sample rate of \(src.sampleRate) Hz, outside the \(Self.plausibleRates.lowerBound)…\(Self.plausibleRates.upperBound) Hz of real audio (a damaged header?)")
        }
        source = src
        self.backend = used
        sourceSampleRate = src.sampleRate
        sourceChannels = src.channels
        self.sampleRate = sampleRate ?? src.sampleRate
        channels = mono ? 1 : src.channels
        resampler = try Resampler(inputRate: src.sampleRate, inputLayout: src.layout, inputFormat: src.format,
                                  outputRate: self.sampleRate, outputChannels: channels, path: path)
    }

    /// The next chunk, or nil when the audio is exhausted.
    public func nextChunk() throws -> AudioChunk? {
        while pending.count - pendingStart < chunkFrames * channels && !ended {
            if let block = try source.read() {
                if startSeconds == nil { startSeconds = block.seconds }
                try resampler.convert(block, into: &pending)
            } else {
                try resampler.flush(into: &pending)
                ended = true
            }
        }
        let available = (pending.count - pendingStart) / channels
        guard available > 0 else { return nil }
        let n = min(available, chunkFrames)
        let samples = Array(pending[pendingStart..<pendingStart + n * channels])
        pendingStart += n * channels
        if pendingStart > 1 << 20 { pending.removeFirst(pendingStart); pendingStart = 0 }
        let chunk = AudioChunk(seconds: (startSeconds ?? 0) + Double(emittedFrames) / Double(sampleRate),
                               sampleRate: sampleRate, channels: channels, samples: samples)
        emittedFrames += n
        return chunk
    }

    /// Decodes the whole file into one chunk.
    public static func decodeAll(path: String, sampleRate: Int? = nil, mono: Bool = true,
                                 backend: AudioBackend = .auto) throws -> AudioChunk {
        let decoder = try AudioDecoder(path: path, sampleRate: sampleRate, mono: mono, chunkFrames: 1 << 16, backend: backend)
        var all: [Float] = []
        var start: Double?
        while let chunk = try decoder.nextChunk() {
            if start == nil { start = chunk.seconds }
            all.append(contentsOf: chunk.samples)
        }
        return AudioChunk(seconds: start ?? 0, sampleRate: decoder.sampleRate, channels: decoder.channels, samples: all)
    }
}

/// A block of decoded audio in the source's own format.
struct AudioBlock {
    var seconds: Double
    var frames: Int
    /// Pointers to the planes (one for interleaved formats), valid until the next read.
    var planes: [UnsafePointer<UInt8>?]
}

protocol AudioSource: AnyObject {
    var sampleRate: Int { get }
    var channels: Int { get }
    var layout: AVChannelLayout { get }
    var format: AVSampleFormat { get }
    var health: DecodeHealth { get }
    func read() throws -> AudioBlock?
}
