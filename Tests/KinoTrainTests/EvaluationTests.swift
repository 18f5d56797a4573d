import Foundation
import KinoTensor
import KinoTrain
import Testing

@Suite struct EvaluationTests {
    /// Per-class average precision, mAP, micro-F1 and exact match against scikit-learn 1.5.2
    /// (tools/make-metric-fixtures.py), on logits with ties and a class without positives.
    @Test func multiLabelMetricsMatchScikitLearn() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TrainFixtures.path("metrics.json")))
        let fixture = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let rows = try #require(fixture["logits"] as? [[Double]])
        let targets = try #require(fixture["targets"] as? [[Int]])
        let classes = rows[0].count
        let logits = Tensor(shape: [rows.count, classes], values: rows.flatMap { $0.map(Float.init) })
        let e = Evaluation(logits: logits, targets: targets, classes: classes)
        #expect(e.mainName == "val_map")
        let expected = try #require(fixture["average_precision"] as? [Any])
        let ap = try #require(e.fields["val_ap"] as? [Any])
        #expect(ap.count == classes)
        for c in 0..<classes {
            if let want = expected[c] as? Double {
                #expect(abs((ap[c] as! Double) - want) <= 1e-12, "class \(c)")
            } else {
                #expect(ap[c] is NSNull, "class \(c) has no positive: no AP")
            }
        }
        #expect(abs(e.main - (fixture["map"] as! Double)) <= 1e-12)
        #expect(abs((e.fields["val_micro_f1"] as! Double) - (fixture["micro_f1"] as! Double)) <= 1e-12)
        #expect(abs((e.fields["val_exact_match"] as! Double) - (fixture["exact_match"] as! Double)) <= 1e-12)
    }

    @Test func averagePrecisionByHand() {
        // Ranked: + − + (scores 3, 2, 1): AP = 1·½ + ⅔·½.
        #expect(abs(Evaluation.averagePrecision(scores: [3, 2, 1], positive: [true, false, true])! - (0.5 + 1.0 / 3)) < 1e-12)
        // A tie of one positive and one negative at the top is one threshold: precision ½ there.
        #expect(Evaluation.averagePrecision(scores: [1, 1], positive: [true, false]) == 0.5)
        #expect(Evaluation.averagePrecision(scores: [1, 2], positive: [false, false]) == nil)
    }

    @Test func singleLabelAccuracyTopFiveAndConfusion() {
        // Three classes; sample 2 is wrong (predicts 0 for class 1).
        let logits = Tensor(shape: [3, 3], values: [5, 1, 0, 2, 1, 0, 0, 0, 3])
        let e = Evaluation(logits: logits, labels: [0, 1, 2], classes: 3)
        #expect(e.mainName == "val_accuracy")
        #expect(abs(e.main - 2.0 / 3) < 1e-12)
        #expect(e.fields["confusion"] as? [[Int]] == [[1, 0, 0], [1, 0, 0], [0, 0, 1]])
        #expect(e.fields["val_top5"] as? Double == 1)
        // F1: class 0 2·1/(2+1), class 1 0, class 2 1.
        #expect(abs((e.fields["val_macro_f1"] as! Double) - (2.0 / 3 + 0 + 1) / 3) < 1e-12)
    }
}

@Suite struct AugmentationTests {
    /// A clip `[T, C, H, W]` whose frames differ only by a constant.
    func clip() -> Tensor {
        var values: [Float] = []
        for t in 0..<3 { for c in 0..<2 { for y in 0..<8 { for x in 0..<10 { values.append(Float(t * 100 + c * 10) + Float(y) * 0.5 + Float(x * x) * 0.1) } } } }
        return Tensor(shape: [3, 2, 8, 10], values: values)
    }

    @Test func fullSizeCropIsTheClipOrItsMirror() {
        let x = clip()
        var sawFlip = false, sawSame = false
        for seed in 0..<8 as Range<UInt64> {
            var random = SplitMix64Source.stream("a", seed: seed)
            let y = Augmentation.cropAndFlip(x, random: &random, scale: 1...1)
            var mirrored = x
            for row in 0 ..< x.count / 10 { for c in 0..<5 { mirrored.storage.swapAt(row * 10 + c, row * 10 + 9 - c) } }
            if y.maxAbsDifference(x) < 1e-4 { sawSame = true } else {
                #expect(y.maxAbsDifference(mirrored) < 1e-4)
                sawFlip = true
            }
        }
        #expect(sawFlip && sawSame)
    }

    @Test func cropIsOneWindowForEveryFrameAndStaysInRange() {
        let x = clip()
        var random = SplitMix64Source.stream("b", seed: 1)
        let y = Augmentation.cropAndFlip(x, random: &random)
        #expect(y.shape == x.shape)
        #expect(y.maxAbsDifference(x) > 1e-3)
        let plane = 80
        for t in 1..<3 {
            for c in 0..<2 {
                // Every plane is the first one plus its constant: the same window everywhere.
                let offset = Float(t * 100 + c * 10)
                for i in 0..<plane { #expect(abs(y.storage[(t * 2 + c) * plane + i] - y.storage[i] - offset) < 1e-3) }
            }
        }
        let first = Array(x.storage[0..<plane])
        #expect(y.storage[0..<plane].allSatisfy { $0 >= first.min()! - 1e-4 && $0 <= first.max()! + 1e-4 })
        var again = SplitMix64Source.stream("b", seed: 1)
        #expect(Augmentation.cropAndFlip(x, random: &again) == y)
    }

    @Test func symmetriesMoveTheClipAndItsLabelTogether() throws {
        let labels = ["static", "pan-left", "pan-right", "tilt-up", "tilt-down", "zoom-in", "zoom-out"]
        let mirror = try LabelSymmetry(transform: .mirror, swaps: "pan-left=pan-right", labels: labels)
        let flip = try LabelSymmetry(transform: .flip, swaps: "tilt-up = tilt-down", labels: labels)
        let reverse = try LabelSymmetry(transform: .reverse, swaps: "pan-left=pan-right,tilt-up=tilt-down,zoom-in=zoom-out", labels: labels)
        #expect(mirror.permutation == [0, 2, 1, 3, 4, 5, 6])
        #expect(flip.permutation == [0, 1, 2, 4, 3, 5, 6])
        #expect(reverse.permutation == [0, 2, 1, 4, 3, 6, 5])
        let x = clip()   // value = 100 t + 10 c + 0.5 y + 0.1 x²
        func value(_ t: Tensor, _ f: Int, _ c: Int, _ y: Int, _ x: Int) -> Float { t.storage[((f * 2 + c) * 8 + y) * 10 + x] }
        let m = LabelSymmetry.Transform.mirror.apply(x), v = LabelSymmetry.Transform.flip.apply(x)
        let r = LabelSymmetry.Transform.reverse.apply(x)
        #expect(value(m, 1, 1, 2, 0) == value(x, 1, 1, 2, 9))
        #expect(value(v, 2, 0, 0, 3) == value(x, 2, 0, 7, 3))
        #expect(value(r, 0, 1, 5, 4) == value(x, 2, 1, 5, 4))
        #expect(LabelSymmetry.Transform.reverse.apply(r) == x)
        // Each symmetry is applied about half the time, always with its label change.
        var counts = [0, 0, 0, 0]
        for seed in 0..<64 as Range<UInt64> {
            var random = SplitMix64Source.stream("sym", seed: seed)
            let (y, label) = Augmentation.symmetries(x, label: 1, [mirror, reverse], random: &random)
            if y == x { #expect(label == 1); counts[0] += 1 }
            else if y == LabelSymmetry.Transform.mirror.apply(x) { #expect(label == 2); counts[1] += 1 }
            else if y == r { #expect(label == 2); counts[2] += 1 }
            else {
                #expect(y == LabelSymmetry.Transform.reverse.apply(LabelSymmetry.Transform.mirror.apply(x)))
                #expect(label == 1); counts[3] += 1
            }
        }
        #expect(counts.allSatisfy { $0 >= 8 })
        #expect(throws: TrainError.self) { try LabelSymmetry(transform: .mirror, swaps: "pan-left=pan-up", labels: labels) }
        #expect(throws: TrainError.self) { try LabelSymmetry(transform: .mirror, swaps: "pan-left=pan-right,pan-right=static", labels: labels) }
        #expect(throws: TrainError.self) { try LabelSymmetry(transform: .mirror, swaps: "pan-left", labels: labels) }
    }

    @Test func specAugmentMasksOneBandAndOneSpan() {
        let x = Tensor(shape: [100, 32], values: Array(repeating: 1, count: 3200))
        var random = SplitMix64Source.stream("s", seed: 2)
        let y = Augmentation.specAugment(x, random: &random)
        let zeroColumns = (0..<32).filter { c in (0..<100).allSatisfy { y.storage[$0 * 32 + c] == 0 } }
        let zeroRows = (0..<100).filter { r in (0..<32).allSatisfy { y.storage[r * 32 + $0] == 0 } }
        #expect(zeroColumns.count <= 8 && zeroRows.count <= 20)
        if let a = zeroColumns.first, let b = zeroColumns.last { #expect(b - a + 1 == zeroColumns.count) }
        if let a = zeroRows.first, let b = zeroRows.last { #expect(b - a + 1 == zeroRows.count) }
        #expect(y.storage.filter { $0 == 0 }.count == zeroColumns.count * 100 + zeroRows.count * 32 - zeroColumns.count * zeroRows.count)
    }
}
