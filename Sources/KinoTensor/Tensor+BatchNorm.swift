import Foundation

/// A batch norm's running statistics (buffers, not parameters: no gradient, updated by training
/// steps) under the keys they are saved with (`….running_mean`, `….running_var`).
public struct BatchNormStatistics: Sendable, Equatable {
    public var meanKey: String
    public var varianceKey: String
    public var mean: Tensor
    public var variance: Tensor
    /// PyTorch's `momentum`: `running ← (1 − m)·running + m·batch` (the variance unbiased).
    public var momentum: Float

    public init(meanKey: String, varianceKey: String, mean: Tensor, variance: Tensor, momentum: Float = 0.1) {
        self.meanKey = meanKey
        self.varianceKey = varianceKey
        self.mean = mean
        self.variance = variance
        self.momentum = momentum
    }
}

extension Tensor {
    /// Batch normalisation of `[B, C, …]` per channel, as PyTorch's `F.batch_norm`.
    ///
    /// Training: normalised by the batch's mean and biased variance; returns those statistics and
    /// the updated running ones. Evaluation: normalised by the running statistics.
    static func batchNorm(_ x: Tensor, weight: Tensor, bias: Tensor, running: BatchNormStatistics, eps: Float,
                          training: Bool) -> (output: Tensor, statistics: LayerNormStatistics, updated: BatchNormStatistics?) {
        let (b, c) = (x.shape[0], x.shape[1])
        let spatial = x.count / max(1, b * c), n = b * spatial
        precondition(weight.count == c && bias.count == c && running.mean.count == c && running.variance.count == c,
                     "batch norm of \(x.shape) with γ \(weight.shape) and running statistics \(running.mean.shape)")
        var means = [Float](repeating: 0, count: c), inverse = means
        var updated = running
        for ch in 0..<c {
            if training {
                var sum = 0.0
                for item in 0..<b { for s in 0..<spatial { sum += Double(x.storage[(item * c + ch) * spatial + s]) } }
                let mean = sum / Double(n)
                var sq = 0.0
                for item in 0..<b {
                    for s in 0..<spatial { let d = Double(x.storage[(item * c + ch) * spatial + s]) - mean; sq += d * d }
                }
                means[ch] = Float(mean)
                inverse[ch] = Float(1 / (sq / Double(n) + Double(eps)).squareRoot())
                let m = running.momentum
                updated.mean.storage[ch] = (1 - m) * running.mean.storage[ch] + m * Float(mean)
                updated.variance.storage[ch] = (1 - m) * running.variance.storage[ch] + m * Float(sq / Double(max(1, n - 1)))
            } else {
                means[ch] = running.mean.storage[ch]
                inverse[ch] = 1 / (running.variance.storage[ch] + eps).squareRoot()
            }
        }
        var out = Tensor(uninitialized: x.shape)
        for item in 0..<b {
            for ch in 0..<c {
                let base = (item * c + ch) * spatial
                let (m, inv, g, beta) = (means[ch], inverse[ch], weight.storage[ch], bias.storage[ch])
                for s in 0..<spatial { out.storage[base + s] = (x.storage[base + s] - m) * inv * g + beta }
            }
        }
        return (out, LayerNormStatistics(mean: means, inverseStd: inverse), training ? updated : nil)
    }

    /// Gradients of ``batchNorm``: in training as a layer norm over each channel's `B·…`
    /// elements; in evaluation the normalisation is affine (`dx = dy·γ/σ`).
    static func batchNormBackward(input x: Tensor, weight: Tensor, statistics: LayerNormStatistics, training: Bool,
                                  outputGradient dy: Tensor) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let (b, c) = (x.shape[0], x.shape[1])
        let spatial = x.count / max(1, b * c), n = Float(b * spatial)
        var dx = Tensor(zeros: x.shape), dgamma = Tensor(zeros: [c]), dbeta = Tensor(zeros: [c])
        for ch in 0..<c {
            let (mean, inv, g) = (statistics.mean[ch], statistics.inverseStd[ch], weight.storage[ch])
            var sumG: Float = 0, sumGX: Float = 0
            for item in 0..<b {
                for s in 0..<spatial {
                    let i = (item * c + ch) * spatial + s
                    let xhat = (x.storage[i] - mean) * inv
                    dgamma.storage[ch] += dy.storage[i] * xhat
                    dbeta.storage[ch] += dy.storage[i]
                    sumG += dy.storage[i] * g
                    sumGX += dy.storage[i] * g * xhat
                }
            }
            let (meanG, meanGX) = training ? (sumG / n, sumGX / n) : (0, 0)
            for item in 0..<b {
                for s in 0..<spatial {
                    let i = (item * c + ch) * spatial + s
                    let xhat = (x.storage[i] - mean) * inv
                    dx.storage[i] = inv * (dy.storage[i] * g - meanG - xhat * meanGX)
                }
            }
        }
        return (dx, dgamma, dbeta)
    }
}
