import Foundation
import KinoTensor

/// A label with its probability.
public struct LabelScore: Sendable, Equatable, Codable {
    public var label: String
    /// Softmax or sigmoid probability, per the model's ``LabelScoring``.
    public var score: Float

    public init(label: String, score: Float) {
        self.label = label
        self.score = score
    }
}

extension KinoModel {
    /// Probabilities for every row of `logits` (`[B, labels]`).
    public func probabilities(_ logits: Tensor) -> [[Float]] {
        let n = logits.shape.last ?? 0
        return (0..<(logits.count / max(1, n))).map { scoring.probabilities(Array(logits.storage[$0 * n ..< ($0 + 1) * n])) }
    }

    /// The `k` most probable labels of one probability row, best first (ties by index).
    public func topLabels(_ probabilities: [Float], k: Int) -> [LabelScore] {
        probabilities.indices
            .sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
            .prefix(max(0, k))
            .map { LabelScore(label: $0 < labels.count ? labels[$0] : "LABEL_\($0)", score: probabilities[$0]) }
    }
}

/// The element-wise mean of probability rows (multi-clip or multi-window averaging).
public func meanProbabilities(_ rows: [[Float]]) -> [Float] {
    guard let first = rows.first else { return [] }
    var sum = [Float](repeating: 0, count: first.count)
    for row in rows { for i in 0..<min(sum.count, row.count) { sum[i] += row[i] } }
    return sum.map { $0 / Float(rows.count) }
}
