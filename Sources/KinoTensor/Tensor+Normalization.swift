import Foundation

/// Per-row statistics a layer norm computed, kept so a backward pass can reuse them.
public struct LayerNormStatistics: Sendable {
    /// Mean of each row.
    public var mean: [Float]
    /// `1 / sqrt(variance + eps)` of each row (biased variance, divided by D).
    public var inverseStd: [Float]
}

extension Tensor {
    /// Layer normalisation over the last dimension, as PyTorch's `nn.LayerNorm`.
    ///
    /// `y = (x − μ) / sqrt(σ² + eps) · γ + β` with μ and the biased σ² over the last dimension.
    /// Statistics are accumulated in Double, so rows with a large mean do not lose digits.
    /// - Parameters:
    ///   - weight: γ, `[D]`.
    ///   - bias: β, `[D]`.
    ///   - eps: added to the variance (1e-12 for ViT/AST, 1e-6 for ViViT).
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        var out = Tensor(uninitialized: shape)
        _ = layerNorm(weight: weight, bias: bias, eps: eps, into: &out)
        return out
    }

    /// ``layerNorm(weight:bias:eps:)`` into a caller-owned buffer.
    ///
    /// - Returns: the per-row mean and inverse standard deviation.
    @discardableResult
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float, into out: inout Tensor,
                          keepStatistics: Bool = false) -> LayerNormStatistics? {
        let d = shape.last ?? 0
        precondition(weight.count == d && bias.count == d, "layer norm over \(d) with γ \(weight.shape), β \(bias.shape)")
        out.resize(to: shape)
        let rows = d == 0 ? 0 : count / d
        var means = keepStatistics ? [Float](repeating: 0, count: rows) : []
        var inverse = keepStatistics ? [Float](repeating: 0, count: rows) : []
        storage.withUnsafeBufferPointer { src in
            weight.storage.withUnsafeBufferPointer { g in
                bias.storage.withUnsafeBufferPointer { b in
                    out.storage.withUnsafeMutableBufferPointer { dst in
                        means.withUnsafeMutableBufferPointer { meanOut in
                            inverse.withUnsafeMutableBufferPointer { invOut in
                                let src = src.baseAddress!, dst = dst.baseAddress!
                                let g = g.baseAddress!, b = b.baseAddress!
                                // An empty array's buffer can still have a base address (the shared empty storage).
                                let meanOut = keepStatistics ? meanOut.baseAddress : nil
                                let invOut = keepStatistics ? invOut.baseAddress : nil
                                Parallelism.forChunks(rows, minimumChunk: 64) { range in
                                    for r in range {
                                        let x = src + r * d, y = dst + r * d
                                        var sum = 0.0
                                        for j in 0..<d { sum += Double(x[j]) }
                                        let mean = sum / Double(d)
                                        var sq = 0.0
                                        for j in 0..<d {
                                            let c = Double(x[j]) - mean
                                            sq += c * c
                                        }
                                        let inv = Float(1 / (sq / Double(d) + Double(eps)).squareRoot())
                                        let m = Float(mean)
                                        for j in 0..<d { y[j] = (x[j] - m) * inv * g[j] + b[j] }
                                        meanOut?[r] = m
                                        invOut?[r] = inv
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return keepStatistics ? LayerNormStatistics(mean: means, inverseStd: inverse) : nil
    }

    /// Softmax over the last dimension in place (max-subtracted, accumulated in Float).
    public mutating func softmaxLastDimension() {
        let d = shape.last ?? 0
        guard d > 0 else { return }
        let rows = count / d
        storage.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallelism.forChunks(rows, minimumChunk: 256) { range in
                for r in range { Tensor.softmaxRow(base + r * d, d) }
            }
        }
    }

    /// Softmax of one row of `n` values in place, eight lanes at a time.
    ///
    /// - Returns: the row's maximum and `Σ exp(x − max)`, from which its log-sum-exp follows.
    @inline(__always) @discardableResult
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) -> (peak: Float, total: Float) {
        let raw = UnsafeMutableRawPointer(row)
        let vectorEnd = n - n % 8
        var peaks = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j < vectorEnd {
            let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            peaks.replace(with: v, where: v .> peaks)
            j += 8
        }
        var peak = peaks.max()
        for k in vectorEnd..<n { peak = max(peak, row[k]) }
        var sums = SIMD8<Float>(repeating: 0)
        j = 0
        while j < vectorEnd {
            let e = SIMDMath.exp(raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - peak)
            raw.storeBytes(of: e, toByteOffset: j * 4, as: SIMD8<Float>.self)
            sums += e
            j += 8
        }
        var total = sums.sum()
        for k in vectorEnd..<n {
            let e = expf(row[k] - peak)
            row[k] = e
            total += e
        }
        let inv = 1 / total
        for k in 0..<n { row[k] *= inv }
        return (peak, total)
    }

    /// Logistic sigmoid of every element (multi-label heads such as AudioSet's).
    public func sigmoid() -> Tensor {
        var out = self
        out.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = 1 / (1 + expf(-p[i])) }
        }
        return out
    }
}
