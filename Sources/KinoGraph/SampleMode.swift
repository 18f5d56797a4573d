/// What to do with a clip that runs past the last frame.
///
/// Named after torchcodec's sampler policies; `pad` and `drop` are additions for models that
/// want to see the tail of a file without duplicated frames, or never see a short clip.
public enum ClipEndPolicy: String, Sendable, Codable, CaseIterable {
    /// Fill with zero-valued frames whose indices and times continue the clip's spacing.
    case pad
    /// Fill with copies of the last real frame (its own index and time), as torchcodec's `repeat_last`.
    case repeatLast = "repeat-last"
    /// Emit only clips whose every frame exists.
    case drop
}

/// How clips are laid over a stream.
///
/// Clip k starts at frame `k × clipStride` and takes `length` frames `frameStride` apart,
/// so it spans `frameStride × (length − 1) + 1` frames. Clips continue until one reaches the
/// last frame, so the whole file is covered; at most one clip is short, and `policy` decides
/// what happens to it.
public struct ClipSpec: Sendable, Equatable {
    /// Frames per clip (L).
    public var length: Int
    /// Distance in frames between frames of one clip (s).
    public var frameStride: Int
    /// Distance in frames between the starts of consecutive clips (S).
    public var clipStride: Int
    public var policy: ClipEndPolicy

    public init(length: Int, frameStride: Int = 1, clipStride: Int? = nil, policy: ClipEndPolicy = .repeatLast) {
        precondition(length >= 1 && frameStride >= 1, "clip length and frame stride must be positive")
        self.length = length
        self.frameStride = frameStride
        self.clipStride = max(1, clipStride ?? (frameStride * (length - 1) + 1))
        self.policy = policy
    }

    /// Frames between a clip's first and last frame, inclusive.
    public var span: Int { frameStride * (length - 1) + 1 }
}

/// Which frames the `sample` stage keeps.
public enum SampleMode: Sendable, Equatable {
    /// The frame on screen at each time `t0 + k / rate` (t0 = first frame's time); each source
    /// frame is emitted at most once, so a rate above the source's passes every frame.
    case fps(Double)
    /// Frames 0, n, 2n, … by position in the stream.
    case everyNth(Int)
    /// `count` indices spread evenly from the first to the last frame, both included
    /// (`⌊k·(N−1)/(count−1)⌋`, as torchcodec's regular sampler); needs the total N.
    /// Asking for more frames than exist repeats frames, as torchcodec does.
    case uniform(count: Int)
    /// Fixed-length clips; the stage outputs ``PortType/clip``.
    case clips(ClipSpec)
}

/// Index arithmetic of the samplers, free of streaming concerns so it can be tested alone.
public enum SamplerMath {
    /// The indices ``SampleMode/uniform(count:)`` selects from `total` frames, in order.
    public static func uniformIndices(count: Int, total: Int) -> [Int] {
        guard count > 0, total > 0 else { return [] }
        guard count > 1 else { return [0] }
        return (0..<count).map { $0 * (total - 1) / (count - 1) }
    }

    /// The nominal frame indices of every clip a file of `total` frames yields under `spec`
    /// (before the end policy fills in missing frames; indices ≥ `total` are the missing ones).
    public static func clipIndices(_ spec: ClipSpec, total: Int) -> [[Int]] {
        var clips: [[Int]] = []
        var start = 0
        while start < total {
            let indices = (0..<spec.length).map { start + $0 * spec.frameStride }
            let last = indices.last!
            if last < total || spec.policy != .drop { clips.append(indices) }
            if last >= total - 1 { break }
            start += spec.clipStride
        }
        return clips
    }
}
