import Foundation

extension Tensor {
    /// Softmax cross-entropy of `[B, C]` logits and its gradient, as PyTorch's
    /// `cross_entropy(logits, labels, label_smoothing: ε)` (targets `(1 − ε)·onehot + ε/C`),
    /// the sum over rows divided by `divisor`. Accumulated in Double.
    public static func crossEntropy(logits: Tensor, labels: [Int], labelSmoothing: Float = 0,
                                    divisor: Int? = nil) -> (loss: Float, gradient: Tensor) {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count, "cross-entropy of \(logits.shape) with \(labels.count) labels")
        let (b, c) = (logits.shape[0], logits.shape[1])
        precondition(labels.allSatisfy { (0..<c).contains($0) }, "labels outside 0..<\(c): \(labels)")
        let scale = 1 / Double(divisor ?? b)
        let eps = Double(labelSmoothing)
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        for r in 0..<b {
            let row = (0..<c).map { Double(logits.storage[r * c + $0]) }
            let peak = row.max() ?? 0
            let sum = row.reduce(0) { $0 + Foundation.exp($1 - peak) }
            let lse = peak + Foundation.log(sum)
            for j in 0..<c {
                let target = (j == labels[r] ? 1 - eps : 0) + eps / Double(c)
                let logp = row[j] - lse
                total -= target * logp
                gradient.storage[r * c + j] = Float((Foundation.exp(logp) - target) * scale)
            }
        }
        return (Float(total * scale), gradient)
    }

    /// Binary cross-entropy with logits (PyTorch's stable form `max(x, 0) − x·y + log(1 + e^{−|x|})`)
    /// and its gradient `(σ(x) − y)/divisor`.
    public static func binaryCrossEntropy(logits: Tensor, targets: Tensor, divisor: Int? = nil) -> (loss: Float, gradient: Tensor) {
        precondition(logits.shape == targets.shape, "BCE of \(logits.shape) with targets \(targets.shape)")
        let scale = 1 / Double(divisor ?? logits.count)
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        for i in 0..<logits.count {
            let x = Double(logits.storage[i]), y = Double(targets.storage[i])
            total += max(x, 0) - x * y + Foundation.log1p(Foundation.exp(-abs(x)))
            gradient.storage[i] = Float((1 / (1 + Foundation.exp(-x)) - y) * scale)
        }
        return (Float(total * scale), gradient)
    }

    /// `Σ w·(x − y)² / divisor` and its gradient `2w(x − y)/divisor`.
    public static func meanSquaredError(_ x: Tensor, target: Tensor, weights: Tensor? = nil,
                                        divisor: Int? = nil) -> (loss: Float, gradient: Tensor) {
        precondition(x.shape == target.shape && (weights == nil || weights!.count == x.count),
                     "MSE of \(x.shape) with target \(target.shape)")
        let scale = 1 / Double(divisor ?? x.count)
        var gradient = Tensor(zeros: x.shape)
        var total = 0.0
        for i in 0..<x.count {
            let w = Double(weights?.storage[i] ?? 1)
            let diff = Double(x.storage[i]) - Double(target.storage[i])
            total += w * diff * diff
            gradient.storage[i] = Float(2 * w * diff * scale)
        }
        return (Float(total * scale), gradient)
    }
}
