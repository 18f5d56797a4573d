import Foundation
import KinoTensor
import Testing

/// Every recorded op's gradient against central finite differences (a second check beside the
/// whole-model torch goldens): the scalar is `MSE(f(x), y)` with a fixed random `y`.
@Suite("op gradients against finite differences")
struct OpGradientTests {
    typealias Build = (Tape, [Tape.Variable]) -> Tape.Variable

    static func random(_ shape: [Int], _ seed: UInt64, scale: Float = 1) -> Tensor {
        var r = SplitMix64Source(seed: seed)
        return r.normal(shape, standardDeviation: scale)
    }

    /// Loss of `build` at `inputs`.
    static func loss(_ inputs: [Tensor], target: Tensor?, _ build: Build) -> (Float, Tensor) {
        let tape = Tape(mode: .evaluation)
        let vars = inputs.map { tape.input($0, requiresGradient: true) }
        let out = build(tape, vars)
        let y = target ?? random(tape.tensor(out).shape, 99)
        var c = tape
        let l = c.meanSquaredError(out, target: y, weights: nil, divisor: nil)
        return (tape.tensor(l).storage[0], y)
    }

    static func check(_ name: String, _ inputs: [Tensor], tolerance: Float = 2e-2, step: Float = 1e-2,
                      _ build: @escaping Build) {
        let tape = Tape(mode: .evaluation)
        let vars = inputs.map { tape.input($0, requiresGradient: true) }
        let out = build(tape, vars)
        let target = random(tape.tensor(out).shape, 99)
        var c = tape
        let l = c.meanSquaredError(out, target: target, weights: nil, divisor: nil)
        _ = tape.backward(from: l)
        var worst: Float = 0
        for (i, input) in inputs.enumerated() {
            let analytic = tape.gradient(of: vars[i])!
            let scale = max(analytic.storage.reduce(0) { max($0, abs($1)) }, 1e-3)
            // At most 24 elements per input, spread over it.
            let picks = Set(stride(from: 0, to: input.count, by: max(1, input.count / 24)))
            for j in picks {
                var plus = inputs, minus = inputs
                plus[i].storage[j] += step
                minus[i].storage[j] -= step
                let numeric = (loss(plus, target: target, build).0 - loss(minus, target: target, build).0) / (2 * step)
                let error = abs(numeric - analytic.storage[j]) / scale
                worst = max(worst, error)
                #expect(error <= tolerance, "\(name): input \(i) element \(j): analytic \(analytic.storage[j]), numeric \(numeric)")
            }
        }
        print("op gradient \(name): worst relative error \(worst)")
    }

    @Test func linearAndMatmul() {
        Self.check("linear", [Self.random([2, 3, 5], 1), Self.random([4, 5], 2), Self.random([4], 3)]) { t, v in
            var c = t
            return c.linear(v[0], weight: v[1], bias: v[2])
        }
        Self.check("matmul", [Self.random([3, 5], 4), Self.random([5, 2], 5)]) { t, v in
            var c = t
            return c.matmul(v[0], v[1])
        }
    }

    @Test func layerNorm() {
        Self.check("layer norm", [Self.random([3, 4, 6], 6), Self.random([6], 7, scale: 0.5), Self.random([6], 8)]) { t, v in
            var c = t
            return c.layerNorm(v[0], weight: v[1], bias: v[2], eps: 1e-5)
        }
    }

    @Test("attention, including keys and values from another, longer sequence")
    func attention() {
        Self.check("self-attention", [Self.random([2, 5, 8], 9), Self.random([2, 5, 8], 10), Self.random([2, 5, 8], 11)]) { t, v in
            var c = t
            return c.attention(query: v[0], key: v[1], value: v[2], heads: 2)
        }
        // 70 query rows cross the 64-row block; 9 keys/values from another sequence.
        Self.check("cross-attention", [Self.random([1, 70, 4], 12), Self.random([1, 9, 4], 13), Self.random([1, 9, 4], 14)],
                   tolerance: 3e-2) { t, v in
            var c = t
            return c.attention(query: v[0], key: v[1], value: v[2], heads: 1)
        }
    }

    @Test("activations", arguments: Activation.allCases.filter { $0 != .relu })
    func activations(_ f: Activation) {
        Self.check(f.rawValue, [Self.random([3, 7], 15, scale: 1.5)]) { t, v in
            var c = t
            return c.activation(v[0], f)
        }
    }

    @Test("broadcasting add and multiply, scale, softmax")
    func elementwise() {
        Self.check("add broadcast", [Self.random([2, 3, 4], 16), Self.random([1, 3, 4], 17)]) { t, v in
            var c = t
            return c.add(v[0], v[1])
        }
        Self.check("multiply broadcast", [Self.random([2, 3, 4], 18), Self.random([4], 19)]) { t, v in
            var c = t
            return c.multiply(v[0], v[1])
        }
        Self.check("scale and softmax", [Self.random([3, 6], 20)]) { t, v in
            var c = t
            return c.softmax(c.scale(v[0], by: 1.7))
        }
    }

    @Test("reshape, transpose, concatenate, slice, token, mean")
    func shapes() {
        Self.check("shape ops", [Self.random([2, 3, 4], 21), Self.random([2, 2, 4], 22)]) { t, v in
            var c = t
            let joined = c.concatenate([v[0], v[1]], axis: 1)                 // [2, 5, 4]
            let part = c.slice(joined, axis: 2, 1 ..< 3)                       // [2, 5, 2]
            let flipped = c.transposeLastTwo(c.reshape(part, [2, 2, 5]))       // [2, 5, 2]
            let pooled = c.mean(flipped, axis: 1)                              // [2, 2]
            return c.add(c.token(4, of: flipped), pooled)
        }
    }

    @Test("patch embeddings: overlapping 2-D and 3-D")
    func patches() {
        Self.check("patch 2-D stride 2", [Self.random([1, 2, 6, 7], 23), Self.random([3, 2, 3, 3], 24), Self.random([3], 25)]) { t, v in
            var c = t
            return c.patchEmbedding(v[0], weight: v[1], bias: v[2], stride: [2, 2])
        }
        Self.check("tubelet 3-D", [Self.random([1, 4, 2, 4, 4], 26), Self.random([3, 2, 2, 2, 2], 27), Self.random([3], 28)]) { t, v in
            var c = t
            return c.patchEmbedding(v[0], weight: v[1], bias: v[2], stride: nil)
        }
    }

    @Test("losses: cross-entropy with label smoothing, BCE with logits, weighted MSE")
    func losses() {
        let targets = Tensor(shape: [2, 3], values: [1, 0, 1, 0, 0.5, 0])
        let weights = Tensor(shape: [2, 3], values: [1, 0, 2, 0.5, 1, 3])
        for (name, build) in [
            ("cross-entropy", { (t: Tape, v: [Tape.Variable]) -> Tape.Variable in
                var c = t
                return c.crossEntropy(v[0], labels: [2, 0], labelSmoothing: 0.1, divisor: nil)
            }),
            ("bce", { (t: Tape, v: [Tape.Variable]) -> Tape.Variable in
                var c = t
                return c.binaryCrossEntropy(v[0], targets: targets, divisor: nil)
            }),
            ("weighted mse", { (t: Tape, v: [Tape.Variable]) -> Tape.Variable in
                var c = t
                return c.meanSquaredError(v[0], target: targets, weights: weights, divisor: 4)
            }),
        ] as [(String, Build)] {
            Self.check(name, [Self.random([2, 3], 29)], build)
        }
    }

    @Test("cross-entropy and BCE values as torch computes them")
    func lossValues() {
        // torch 2.5.1: F.cross_entropy(torch.tensor([[1., 2., 0.5], [0., -1., 3.]]), torch.tensor([2, 0]), label_smoothing=0.1)
        let logits = Tensor(shape: [2, 3], values: [1, 2, 0.5, 0, -1, 3])
        let ce = Tensor.crossEntropy(logits: logits, labels: [2, 0], labelSmoothing: 0.1).loss
        #expect(abs(ce - 2.4484594) < 1e-5)
        // torch: F.binary_cross_entropy_with_logits(same logits, torch.tensor([[1., 0., 1.], [0., .5, 0.]]))
        let bce = Tensor.binaryCrossEntropy(logits: logits, targets: Tensor(shape: [2, 3], values: [1, 0, 1, 0, 0.5, 0])).loss
        #expect(abs(bce - 1.2448772) < 1e-5)
    }

    @Test("dropout: the same mask forward and backward, inverted scaling, identity when evaluating")
    func dropout() {
        let x = Self.random([4, 50], 30)
        let tape = Tape(mode: .training, random: SplitMix64Source(seed: 5))
        var c = tape
        let v = tape.input(x, requiresGradient: true)
        let y = c.dropout(v, rate: 0.25)
        let out = tape.tensor(y)
        let zeros = out.storage.filter { $0 == 0 }.count
        #expect(zeros > 20 && zeros < 80)
        let l = c.meanSquaredError(y, target: Tensor(zeros: x.shape), weights: nil, divisor: nil)
        _ = tape.backward(from: l)
        let g = tape.gradient(of: v)!
        for i in 0..<x.count {
            if out.storage[i] == 0 { #expect(g.storage[i] == 0) } else {
                #expect(abs(out.storage[i] - x.storage[i] / 0.75) < 1e-6)
            }
        }
        let eval = Tape(mode: .evaluation)
        var e = eval
        #expect(eval.tensor(e.dropout(eval.constant(x), rate: 0.25)) == x)
    }

    @Test("a value without a gradient rule refuses nothing when no input needs a gradient")
    func withoutGradient() {
        let tape = Tape()
        var c = tape
        let v = c.withoutGradient("resize", [tape.constant(Tensor(zeros: [2]))]) { $0[0] }
        #expect(tape.tensor(v) == Tensor(zeros: [2]))
    }
}
