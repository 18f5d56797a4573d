/// How decoded pictures are laid out in memory.
public enum PixelLayout: String, Sendable, Codable, CaseIterable {
    /// 8-bit interleaved R,G,B (3 bytes per pixel, rows packed without padding).
    case rgb24
    /// 8-bit luma only (1 byte per pixel).
    case gray8
    /// Float32 planar R plane, G plane, B plane, values in [0, 1].
    case rgbPlanarFloat

    /// Number of channels per pixel.
    public var channels: Int { self == .gray8 ? 1 : 3 }
}

/// How a picture is brought to a requested output size.
public enum ResizeMode: String, Sendable, Codable, CaseIterable {
    /// Scale both axes independently to exactly the target size.
    case stretch
    /// Scale so the short side equals the target's short side, then centre-crop to the target.
    case shortSideCrop = "short-side-crop"
    /// Scale to fit inside the target keeping aspect ratio (output may be smaller than the target).
    case fit
}

/// A decoded video frame with its exact presentation time.
///
/// `pts` is in the stream's `timeBase`; `seconds` is derived from it relative to the stream start
/// as FFmpeg reports it (no offset is removed). Pixel data is in `bytes` for 8-bit layouts and in
/// `floats` for `rgbPlanarFloat`; the other array is empty.
public struct VideoFrame: Sendable {
    /// Zero-based index of this frame in presentation order.
    public var index: Int
    /// Presentation timestamp in `timeBase` units.
    public var pts: Int64
    /// The stream time base.
    public var timeBase: Rational
    /// Presentation time in seconds.
    public var seconds: Double
    /// Display duration in seconds, when known (0 otherwise).
    public var duration: Double
    public var width: Int
    public var height: Int
    public var layout: PixelLayout
    /// Pixel bytes (rgb24, gray8), row-major, no padding.
    public var bytes: [UInt8]
    /// Pixel floats (rgbPlanarFloat): plane-major, then row-major.
    public var floats: [Float]
    /// True for a frame decoded for its timestamps only (see `VideoDecoder.nextFrame(convertIf:)`):
    /// no pixels, width and height 0.
    public var isUnconverted: Bool { width == 0 && height == 0 && bytes.isEmpty && floats.isEmpty }

    public init(index: Int, pts: Int64, timeBase: Rational, seconds: Double, duration: Double = 0,
                width: Int, height: Int, layout: PixelLayout, bytes: [UInt8] = [], floats: [Float] = []) {
        self.index = index
        self.pts = pts
        self.timeBase = timeBase
        self.seconds = seconds
        self.duration = duration
        self.width = width
        self.height = height
        self.layout = layout
        self.bytes = bytes
        self.floats = floats
    }
}

/// A chunk of decoded audio: interleaved Float32 samples with the time of the first sample.
public struct AudioChunk: Sendable {
    /// Time of the first sample in seconds.
    public var seconds: Double
    /// Sample rate in Hz.
    public var sampleRate: Int
    /// Number of channels; samples are interleaved.
    public var channels: Int
    /// Interleaved samples in [-1, 1].
    public var samples: [Float]

    public init(seconds: Double, sampleRate: Int, channels: Int, samples: [Float]) {
        self.seconds = seconds
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    /// Number of sample frames (samples per channel).
    public var frameCount: Int { channels == 0 ? 0 : samples.count / channels }
}
