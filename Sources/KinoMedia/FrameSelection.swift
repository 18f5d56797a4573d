/// Which frames of a video to take, resolved against the exact frame index.
public enum FrameSelection: Sendable, Hashable {
    /// Frames at a rate: the frame shown at each time `start + k/fps` within the stream.
    case rate(Double)
    /// `n` frames spread evenly from the first to the last frame (inclusive).
    case count(Int)
    /// Exact frame indices.
    case indices([Int])
    /// The frames shown at these times (seconds).
    case times([Double])

    /// The frame indices this selection picks, ascending and without repeats.
    ///
    /// - Throws: `MediaError.outOfRange` for an index or time outside the stream, and
    ///   `.invalidArgument` for a non-positive rate or count.
    public func resolve(in index: FrameIndex, path: String = "") throws -> [Int] {
        let n = index.count
        guard n > 0 else { return [] }
        switch self {
        case .rate(let fps):
            guard fps > 0, fps.isFinite else { throw invalid("the rate must be positive", path) }
            let start = index.seconds(0), last = index.seconds(n - 1)
            var picked: [Int] = []
            var k = 0
            while true {
                let t = start + Double(k) / fps
                if t > last + 1e-9 { break }
                if let i = index.frameIndex(atSeconds: t), picked.last != i { picked.append(i) }
                k += 1
            }
            return picked
        case .count(let count):
            guard count > 0 else { throw invalid("the count must be positive", path) }
            if count == 1 { return [0] }
            let picked = (0..<count).map { Int((Double($0) * Double(n - 1) / Double(count - 1)).rounded()) }
            return Array(Set(picked)).sorted()
        case .indices(let list):
            for i in list where i < 0 || i >= n {
                throw MediaError(.outOfRange, operation: "selecting frame \(i)", path: path,
                                 message: "the stream has \(n) frames (0…\(n - 1))")
            }
            return Array(Set(list)).sorted()
        case .times(let list):
            let first = index.seconds(0), last = index.seconds(n - 1)
            let lastEnd = last + index.timeBase.seconds(index.entries[n - 1].duration)
            return try Array(Set(list.map { t -> Int in
                guard t >= first - 1e-9, t <= max(lastEnd, last) + 1e-9, let i = index.frameIndex(atSeconds: t) else {
                    throw MediaError(.outOfRange, operation: "selecting the frame at \(t) s", path: path,
                                     message: "the stream spans \(first)…\(max(lastEnd, last)) s")
                }
                return i
            })).sorted()
        }
    }

    private func invalid(_ message: String, _ path: String) -> MediaError {
        MediaError(.invalidArgument, operation: "selecting frames", path: path, message: message)
    }
}
