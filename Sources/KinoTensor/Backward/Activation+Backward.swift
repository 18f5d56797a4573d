import Foundation

extension Activation {
    /// `f′(x)` on eight lanes, next to ``apply(_:)``'s `f(x)`.
    ///
    /// Exact GELU: `Φ(x) + x·φ(x)`. Tanh forms, `u` the tanh argument: `½(1 + t) + ½x(1 − t²)·u′`.
    @inline(__always)
    func derivative(_ x: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .gelu:
            let cdf = 0.5 * (1 + SIMDMath.erf(x * 0.70710678118654752))
            return cdf + x * SIMDMath.exp(x * x * -0.5) * 0.39894228040143268
        case .geluFast:
            let k: Float = 0.7978845608
            let x2: SIMD8<Float> = x * x
            let t: SIMD8<Float> = SIMDMath.tanh(x * k * (x2 * 0.044715 + 1))
            let slope: SIMD8<Float> = (x2 * (3 * 0.044715) + 1) * k
            let left: SIMD8<Float> = (t + 1) * 0.5
            let right: SIMD8<Float> = x * (1 - t * t) * slope * 0.5
            return left + right
        case .geluNew:
            let k: Float = 0.79788456080286536
            let x2: SIMD8<Float> = x * x
            let t: SIMD8<Float> = SIMDMath.tanh((x + x2 * x * 0.044715) * k)
            let slope: SIMD8<Float> = (x2 * (3 * 0.044715) + 1) * k
            let left: SIMD8<Float> = (t + 1) * 0.5
            let right: SIMD8<Float> = x * (1 - t * t) * slope * 0.5
            return left + right
        case .quickGelu:
            let s = 1 / (1 + SIMDMath.exp(x * -1.702))
            return s + 1.702 * x * s * (1 - s)
        case .relu:
            return SIMD8<Float>(repeating: 0).replacing(with: 1, where: x .> 0)
        case .silu:
            let s = 1 / (1 + SIMDMath.exp(-x))
            return s * (1 + x * (1 - s))
        case .tanh:
            let t = SIMDMath.tanh(x)
            return 1 - t * t
        case .sigmoid:
            let s = 1 / (1 + SIMDMath.exp(-x))
            return s * (1 - s)
        }
    }
}

extension Tensor {
    /// `dy ⊙ f′(x)` for an activation applied to `x`.
    static func activationBackward(input x: Tensor, outputGradient dy: Tensor, _ activation: Activation) -> Tensor {
        precondition(x.count == dy.count, "activation gradient \(dy.shape) for input \(x.shape)")
        var out = dy
        let n = x.count
        x.storage.withUnsafeBufferPointer { px in
            out.storage.withUnsafeMutableBufferPointer { po in
                let px = px.baseAddress!, po = po.baseAddress!
                Parallelism.forChunks(n, minimumChunk: 1 << 15) { range in
                    var i = range.lowerBound
                    let rx = UnsafeRawPointer(px), ro = UnsafeMutableRawPointer(po)
                    while i + 8 <= range.upperBound {
                        let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                        let g = ro.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                        ro.storeBytes(of: g * activation.derivative(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
                        i += 8
                    }
                    if i < range.upperBound {
                        // The tail through one padded vector, so every element uses the same formula.
                        var v = SIMD8<Float>(repeating: 0)
                        for j in i..<range.upperBound { v[j - i] = px[j] }
                        let d = activation.derivative(v)
                        for j in i..<range.upperBound { po[j] *= d[j - i] }
                    }
                }
            }
        }
        return out
    }
}
