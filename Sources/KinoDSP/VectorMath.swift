import Foundation

typealias Vec8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>, _ i: Int) -> Vec8 {
    UnsafeRawPointer(p + i).loadUnaligned(as: Vec8.self)
}

@inline(__always) func store8(_ v: Vec8, _ p: FloatPointer, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vec8.self)
}

@inline(__always) func store4(_ v: SIMD4<Float>, _ p: FloatPointer, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD4<Float>.self)
}

/// Sum of `count` floats, eight lanes at a time.
@inline(__always)
func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = Vec8(), i = 0
    while i + 8 <= count { acc += load8(p, i); i += 8 }
    var total = acc.sum()
    while i < count { total += p[i]; i += 1 }
    return total
}

/// Sum of squares of `count` floats less `offset`, eight lanes at a time.
@inline(__always)
func sumOfSquares(_ p: UnsafePointer<Float>, _ count: Int, minus offset: Float = 0) -> Float {
    var acc = Vec8(), i = 0
    let o = Vec8(repeating: offset)
    while i + 8 <= count { let v = load8(p, i) - o; acc += v * v; i += 8 }
    var total = acc.sum()
    while i < count { total += (p[i] - offset) * (p[i] - offset); i += 1 }
    return total
}

/// Natural logarithm of a positive normal float, branch-free so that loops over it vectorise.
///
/// `x = m·2^e` with `m` in `[√½, √2)`; then `ln m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …)` with
/// `s = (m−1)/(m+1)`, `|s| ≤ 0.172`, so five terms reach float precision; `e·ln 2` is added in two
/// parts to keep its rounding out of the sum. Within 2 ulp of `Foundation.log` for normal inputs.
@inline(__always)
func fastLog(_ x: Float) -> Float {
    let bits = x.bitPattern
    var exponent = Int32(bitPattern: bits >> 23) &- 126
    var m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F00_0000)   // [0.5, 1)
    let small = m < 0.707_106_781_186_547_5
    exponent = small ? exponent &- 1 : exponent
    m = small ? m + m : m
    let s = (m - 1) / (m + 1)
    let z = s * s
    var p: Float = 1.0 / 9.0
    p = p * z + 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z + 1.0 / 3.0
    let e = Float(exponent)
    // ln 2 = 0.693359375 − 2.12194440e−4 (the first part is exact in a float).
    return e * 0.693_359_375 + (e * -2.121_944_400_5e-4 + (2 * s + 2 * s * z * p))
}

/// `p[i] = ln(max(p[i], floor))` for `count` values; `floor` must be a positive normal float.
@inline(__always)
func logFloor(_ p: FloatPointer, count: Int, floor: Float) {
    for i in 0..<count {
        let v = p[i]
        p[i] = fastLog(v < floor ? floor : v)
    }
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

/// `out[k] = re[k]² + im[k]²`, or its square root when `magnitude` is set.
@inline(__always)
func powerSpectrum(_ re: UnsafePointer<Float>, _ im: UnsafePointer<Float>, into out: FloatPointer,
                   count: Int, magnitude: Bool) {
    var k = 0
    while k + 8 <= count {
        let r = load8(re, k), i = load8(im, k)
        let p = r * r + i * i
        store8(magnitude ? p.squareRoot() : p, out, k)
        k += 8
    }
    while k < count {
        let p = re[k] * re[k] + im[k] * im[k]
        out[k] = magnitude ? p.squareRoot() : p
        k += 1
    }
}
