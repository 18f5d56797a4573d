// Vectorised exp (Cephes expf range reduction and polynomial) and erf (Abramowitz & Stegun 7.1.26),
// so softmax and GELU do not pay a libm call per element.

/// Eight-lane transcendental functions used by softmax and the activations.
public enum SIMDMath {
    /// `e^x` per lane; relative error about 2e-7 for x in [−87, 88], saturating outside.
    @inline(__always)
    public static func exp(_ input: SIMD8<Float>) -> SIMD8<Float> {
        let low = SIMD8<Float>(repeating: -87.33), high = SIMD8<Float>(repeating: 88.37)
        let x = input.replacing(with: low, where: input .< low).replacing(with: high, where: input .> high)
        // x = k·ln2 + r, |r| ≤ ln2/2; ln2 split in two for an exact product.
        // Round to nearest through the 1.5·2²³ trick: generic SIMD rounding and Float→Int
        // conversion compile to per-lane calls, which cost more than the polynomial.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * 1.44269504088896341 + magic
        let k = shifted - magic
        var r = x - k * 0.693359375
        r = r + k * 2.12194440e-4
        let r2 = r * r
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * r2 + r + 1
        // 2^k through the exponent bits.
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let bits = (integer &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// `erf(x)` per lane; absolute error below 5e-7 (the formula's 1.5e-7 plus Float rounding).
    @inline(__always)
    public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let zero = SIMD8<Float>(repeating: 0)
        let a = x.replacing(with: zero - x, where: x .< zero)
        let t = 1 / (a * 0.3275911 + 1)
        var p = SIMD8<Float>(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let y = 1 - p * t * exp(zero - a * a)
        return y.replacing(with: zero - y, where: x .< zero)
    }

    /// `tanh(x)` per lane as `1 − 2/(1 + e^{2x})`; absolute error about 2e-7.
    @inline(__always)
    public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 - 2 / (exp(x * 2) + 1)
    }
}

extension Activation {
    /// The activation on eight lanes, with ``SIMDMath`` in place of libm.
    @inline(__always)
    func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .gelu:
            return 0.5 * x * (1 + SIMDMath.erf(x * 0.70710678118654752))
        case .geluFast:
            return 0.5 * x * (1 + SIMDMath.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x)))
        case .geluNew:
            return 0.5 * x * (1 + SIMDMath.tanh(0.79788456080286536 * (x + 0.044715 * x * x * x)))
        case .quickGelu:
            return x / (1 + SIMDMath.exp(x * -1.702))
        case .relu:
            return x.replacing(with: SIMD8<Float>(repeating: 0), where: x .< SIMD8<Float>(repeating: 0))
        case .silu:
            return x / (1 + SIMDMath.exp(-x))
        case .tanh:
            return SIMDMath.tanh(x)
        case .sigmoid:
            return 1 / (1 + SIMDMath.exp(-x))
        }
    }
}
