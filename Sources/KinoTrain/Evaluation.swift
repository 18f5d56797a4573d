// Validation metrics for single- and multi-label classifiers, as `kino train` records them.
import Foundation
import KinoTensor

/// Validation figures of a classifier: accuracy, top-5, macro-F1 and the confusion matrix for a
/// single-label set; mean average precision, micro-F1 at 0.5 and exact-match accuracy for a
/// multi-label one. ``main`` is what picks the best epoch (accuracy or mAP).
public struct Evaluation {
    public var mainName: String
    public var main: Double
    /// `metrics.json` fields, `val_`-prefixed.
    public var fields: [String: Any]

    public init(logits: Tensor, labels: [Int], classes: Int) {
        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var top5Hits = 0
        for (i, label) in labels.enumerated() {
            let row = Array(logits.storage[i * classes ..< (i + 1) * classes])
            let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            confusion[label][order[0]] += 1
            if order.prefix(5).contains(label) { top5Hits += 1 }
        }
        let n = max(1, labels.count)
        let accuracy = Double((0..<classes).map { confusion[$0][$0] }.reduce(0, +)) / Double(n)
        var f1s: [Double] = []
        for c in 0..<classes {
            let tp = Double(confusion[c][c])
            let predicted = Double((0..<classes).map { confusion[$0][c] }.reduce(0, +))
            let actual = Double(confusion[c].reduce(0, +))
            guard actual > 0 else { continue }
            f1s.append(tp == 0 ? 0 : 2 * tp / (predicted + actual))
        }
        mainName = "val_accuracy"
        main = accuracy
        fields = ["val_accuracy": accuracy, "val_top5": Double(top5Hits) / Double(n),
                  "val_macro_f1": f1s.isEmpty ? 0 : f1s.reduce(0, +) / Double(f1s.count), "confusion": confusion]
    }

    /// Multi-label: `targets[i]` are sample i's label indices; logits go through a sigmoid.
    public init(logits: Tensor, targets: [[Int]], classes: Int) {
        let n = targets.count
        var perClass: [Double?] = []
        for c in 0..<classes {
            let scores = (0..<n).map { logits.storage[$0 * classes + c] }
            let truth = (0..<n).map { targets[$0].contains(c) }
            perClass.append(Self.averagePrecision(scores: scores, positive: truth))
        }
        let defined = perClass.compactMap { $0 }
        var tp = 0, fp = 0, fn = 0, exact = 0
        for i in 0..<n {
            let predicted = Set((0..<classes).filter { logits.storage[i * classes + $0] > 0 })
            let truth = Set(targets[i])
            tp += predicted.intersection(truth).count
            fp += predicted.subtracting(truth).count
            fn += truth.subtracting(predicted).count
            if predicted == truth { exact += 1 }
        }
        let map = defined.isEmpty ? 0 : defined.reduce(0, +) / Double(defined.count)
        mainName = "val_map"
        main = map
        fields = ["val_map": map, "val_micro_f1": tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn),
                  "val_exact_match": Double(exact) / Double(max(1, n)),
                  "val_ap": perClass.map { $0.map { $0 as Any } ?? NSNull() }]
    }

    /// Average precision as scikit-learn's `average_precision_score` computes it: Σ (Rₙ − Rₙ₋₁) Pₙ
    /// over the distinct scores from the highest down (tied scores form one threshold). `nil`
    /// for a class with no positive sample (left out of the mean).
    public static func averagePrecision(scores: [Float], positive: [Bool]) -> Double? {
        let positives = positive.filter { $0 }.count
        guard positives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var ap = 0.0, tp = 0, fp = 0, previousRecall = 0.0
        var k = 0
        while k < order.count {
            let threshold = scores[order[k]]
            while k < order.count, scores[order[k]] == threshold {
                if positive[order[k]] { tp += 1 } else { fp += 1 }
                k += 1
            }
            let recall = Double(tp) / Double(positives)
            ap += (recall - previousRecall) * Double(tp) / Double(tp + fp)
            previousRecall = recall
        }
        return ap
    }
}
