import Foundation

/// `p[i] = ln(max(p[i], floor))` for `count` values.
@inline(__always)
func logFloor(_ p: FloatPointer, count: Int, floor: Float) {
    for i in 0..<count { p[i] = log(max(p[i], floor)) }
}

extension FeatureMatrix {
    /// Subtracts from each column its mean over all frames (Kaldi's `subtract_mean`).
    mutating func subtractColumnMeans() {
        guard frames > 0 else { return }
        var means = [Double](repeating: 0, count: bins)
        for t in 0..<frames { for b in 0..<bins { means[b] += Double(self[t, b]) } }
        for t in 0..<frames { for b in 0..<bins { self[t, b] -= Float(means[b] / Double(frames)) } }
    }
}

/// Reproducible standard normal samples for dithering: SplitMix64 bits through Box–Muller.
struct GaussianNoise: Sendable {
    private var state: UInt64
    private var spare: Float?

    init(seed: UInt64) { state = seed }

    private mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1].
    private mutating func uniform() -> Double {
        (Double(nextBits() >> 11) + 1) * 0x1p-53
    }

    mutating func next() -> Float {
        if let s = spare { spare = nil; return s }
        let radius = (-2 * log(uniform())).squareRoot(), angle = 2 * Double.pi * uniform()
        spare = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }
}
