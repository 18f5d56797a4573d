/// Which frames of a video to take, resolved against the exact frame index.
public enum FrameSelection: Sendable, Hashable {
    /// Frames at a rate: the frame shown at each time `start + k/fps` within the stream, each
    /// frame at most once (the rule of the pipeline's `fps` sampler).
    case rate(Double)
    /// `n` frames spread evenly from the first to the last frame (inclusive), by
    /// ``evenlySpaced(count:total:)``: the rule the pipeline's `uniform` sampler uses too.
    case count(Int)
    /// Exact frame indices.
    case indices([Int])
    /// The frames shown at these times (seconds).
    case times([Double])

    /// `count` frame indices spread evenly over `total` frames, first and last included:
    /// `⌊k·(total−1)/(count−1)⌋` for `k = 0…count−1` (as torchcodec's regular sampler). With
    /// more requests than frames, frames repeat: one index per request.
    public static func evenlySpaced(count: Int, total: Int) -> [Int] {
        guard count > 0, total > 0 else { return [] }
        guard count > 1 else { return [0] }
        return (0..<count).map { $0 * (total - 1) / (count - 1) }
    }

    /// The frame indices this selection picks, ascending and without repeats.
    ///
    /// - Throws: as ``requests(in:path:)``.
    public func resolve(in index: FrameIndex, path: String = "") throws -> [Int] {
        Array(Set(try requests(in: index, path: path).map(\.index))).sorted()
    }

    /// One entry per request, in the order asked: two times that fall on one frame give two
    /// entries with the same ``FrameRequest/index`` (as torchcodec returns one frame per request).
    ///
    /// - Throws: `MediaError.outOfRange` for an index or time outside the stream, and
    ///   `.invalidArgument` for a non-positive rate or count.
    public func requests(in index: FrameIndex, path: String = "") throws -> [FrameRequest] {
        let n = index.count
        guard n > 0 else { return [] }
        switch self {
        case .rate(let fps):
            guard fps > 0, fps.isFinite else { throw invalid("the rate must be positive", path) }
            let start = index.seconds(0), last = index.seconds(n - 1)
            var picked: [FrameRequest] = []
            var k = 0
            while true {
                let t = start + Double(k) / fps
                if t > last + 1e-9 { break }
                // Each frame at most once, as the pipeline's fps sampler: a rate above the
                // source's passes every frame.
                if let i = index.frameIndex(atSeconds: t), picked.last?.index != i {
                    picked.append(FrameRequest(index: i, seconds: t))
                }
                k += 1
            }
            return picked
        case .count(let count):
            guard count > 0 else { throw invalid("the count must be positive", path) }
            return Self.evenlySpaced(count: count, total: n).map { FrameRequest(index: $0) }
        case .indices(let list):
            for i in list where i < 0 || i >= n {
                throw MediaError(.outOfRange, operation: "selecting frame \(i)", path: path,
                                 message: "the stream has \(n) frames (0…\(n - 1))")
            }
            return list.map { FrameRequest(index: $0) }
        case .times(let list):
            let first = index.seconds(0), last = index.seconds(n - 1)
            let lastEnd = last + index.timeBase.seconds(index.entries[n - 1].duration)
            return try list.map { t -> FrameRequest in
                guard t >= first - 1e-9, t <= max(lastEnd, last) + 1e-9, let i = index.frameIndex(atSeconds: t) else {
                    throw MediaError(.outOfRange, operation: "selecting the frame at \(t) s", path: path,
                                     message: "the stream spans \(first)…\(max(lastEnd, last)) s")
                }
                return FrameRequest(index: i, seconds: t)
            }
        }
    }

    private func invalid(_ message: String, _ path: String) -> MediaError {
        MediaError(.invalidArgument, operation: "selecting frames", path: path, message: message)
    }
}

/// One request of a ``FrameSelection``: the frame that answers it, and the time asked for.
public struct FrameRequest: Sendable, Hashable {
    /// The frame's index in presentation order.
    public var index: Int
    /// The requested time, for `--times` and `--fps` requests.
    public var seconds: Double?

    public init(index: Int, seconds: Double? = nil) {
        self.index = index
        self.seconds = seconds
    }
}
