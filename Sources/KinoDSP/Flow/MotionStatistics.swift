import Foundation

/// Per-frame summary of a flow field, for logs, JSONL events and thresholds ("is anything moving?").
///
/// Directions are in degrees in image coordinates: 0° = right (+x), 90° = down (+y).
public struct MotionStatistics: Codable, Sendable, Equatable {
    /// Mean vector length over the known pixels, in pixels.
    public var meanMagnitude: Float
    /// 95th percentile of the vector length, in pixels.
    public var p95Magnitude: Float
    /// Direction (degrees, 0…360) carrying the most motion: the centre of the 10° bin with the largest
    /// summed magnitude among moving pixels; nil when nothing moves.
    public var dominantDirection: Float?
    /// Share of known pixels whose motion is at least `movingThreshold`.
    public var movingFraction: Float
    /// The threshold (pixels) used for ``movingFraction`` and ``dominantDirection``.
    public var movingThreshold: Float

    /// Summarises a field; unknown vectors (non-finite or above 1e9) are skipped.
    ///
    /// - Parameters:
    ///   - flow: the field.
    ///   - movingThreshold: minimal length (pixels) for a pixel to count as moving.
    public init(_ flow: FlowField, movingThreshold: Float = 0.5) {
        var lengths = [Float]()
        lengths.reserveCapacity(flow.width * flow.height)
        var bins = [Float](repeating: 0, count: 36)
        var moving = 0
        for i in 0..<(flow.width * flow.height) {
            let u = flow.uv[2 * i], v = flow.uv[2 * i + 1]
            guard u.isFinite, v.isFinite, abs(u) < 1e9, abs(v) < 1e9 else { continue }
            let m = (u * u + v * v).squareRoot()
            lengths.append(m)
            if m >= movingThreshold {
                moving += 1
                var deg = atan2(v, u) * 180 / .pi
                if deg < 0 { deg += 360 }
                bins[min(Int(deg / 10), 35)] += m
            }
        }
        self.movingThreshold = movingThreshold
        guard !lengths.isEmpty else {
            meanMagnitude = 0; p95Magnitude = 0; dominantDirection = nil; movingFraction = 0
            return
        }
        meanMagnitude = lengths.reduce(0, +) / Float(lengths.count)
        let rank = min(lengths.count - 1, Int((Float(lengths.count - 1) * 0.95).rounded()))
        p95Magnitude = lengths.withUnsafeMutableBufferPointer { Self.select(rank, in: $0) }
        movingFraction = Float(moving) / Float(lengths.count)
        if moving > 0, let best = bins.indices.max(by: { bins[$0] < bins[$1] }) {
            dominantDirection = Float(best) * 10 + 5
        } else {
            dominantDirection = nil
        }
    }

    /// The `rank`-th smallest value (0-based), as `values.sorted()[rank]` would give, in linear
    /// expected time (Hoare's selection with a median-of-three pivot); reorders `values`.
    static func select(_ rank: Int, in values: UnsafeMutableBufferPointer<Float>) -> Float {
        var lo = 0, hi = values.count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            // Median of three as the pivot value.
            let a = values[lo], b = values[mid], c = values[hi]
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = lo, j = hi
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            // Now values[lo...j] ≤ pivot ≤ values[i...hi], and anything between equals the pivot.
            if rank <= j { hi = j } else if rank >= i { lo = i } else { return values[rank] }
        }
        return values[rank]
    }
}
