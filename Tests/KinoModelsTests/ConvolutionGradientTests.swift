import Foundation
import KinoTensor
import Testing

/// Convolutions, group norm, upsampling, GLU and GEGLU against torch (forward and gradients of
/// Σ r ⊙ out, tools/make-grad-fixtures.py → Fixtures/ops/gradients.safetensors), and the recorded
/// forward against the eager one.
@Suite("convolution-family ops against torch")
struct ConvolutionGradientTests {
    typealias Build = (Tape, [String: Tape.Variable]) -> Tape.Variable

    static func check(_ op: String, inputs: [String], tolerance: Float = 1e-5, _ build: Build) throws {
        let file = try SafeTensorsFile(path: Fixtures.directory("ops") + "/gradients.safetensors")
        let tape = Tape(mode: op.hasSuffix("_train") ? .training : .evaluation)
        var vars: [String: Tape.Variable] = [:]
        for name in inputs { vars[name] = tape.input(try file.tensor("\(op).\(name)"), requiresGradient: true) }
        let out = build(tape, vars)
        let expected = try file.tensor("\(op).out")
        let got = tape.tensor(out)
        #expect(got.shape == expected.shape, "\(op) shape \(got.shape) vs \(expected.shape)")
        let forward = got.maxAbsDifference(expected)
        // Σ r ⊙ out through the tape: multiply, then a mean over a flattened view, times the count.
        var c = tape
        let r = tape.constant(try file.tensor("\(op).r"))
        let flat = c.reshape(c.multiply(out, r), [1, got.count])
        let loss = c.scale(c.mean(flat, axis: 1), by: Float(got.count))
        _ = tape.backward(from: c.reshape(loss, [1]))
        var worst: Float = 0
        for name in inputs {
            let g = try #require(tape.gradient(of: vars[name]!))
            let e = try file.tensor("\(op).grad.\(name)")
            let scale = max(e.storage.map(abs).max() ?? 1, 1e-6)
            worst = max(worst, g.maxAbsDifference(e) / scale)
        }
        print("op \(op): forward max |Δ| \(forward), worst gradient \(worst) of max |g|")
        #expect(forward <= tolerance * max(1, expected.storage.map(abs).max() ?? 1))
        #expect(worst <= 1e-4)
    }

    @Test func conv2dWithStridePaddingGroups() throws {
        try Self.check("conv2d", inputs: ["x", "w", "b"]) { t, v in
            var c = t
            return c.convolution2D(v["x"]!, weight: v["w"]!, bias: v["b"]!,
                                   ConvolutionGeometry(stride: [2, 2], padding: [1, 1], groups: 2))
        }
    }

    @Test func conv3dWithStridePaddingGroups() throws {
        try Self.check("conv3d", inputs: ["x", "w", "b"]) { t, v in
            var c = t
            return c.convolution(v["x"]!, weight: v["w"]!, bias: v["b"]!,
                                 ConvolutionGeometry(stride: [1, 2, 1], padding: [1, 1, 0], groups: 2))
        }
    }

    @Test func depthwiseConv1d() throws {
        try Self.check("conv1d_depthwise", inputs: ["x", "w", "b"]) { t, v in
            var c = t
            return c.convolution1D(v["x"]!, weight: v["w"]!, bias: v["b"]!, padding: 2, groups: 3)
        }
    }

    @Test func groupNorm() throws {
        try Self.check("group_norm", inputs: ["x", "w", "b"]) { t, v in
            var c = t
            return c.groupNorm(v["x"]!, groups: 2, weight: v["w"]!, bias: v["b"]!, eps: 1e-5)
        }
    }

    @Test func nearestUpsample() throws {
        try Self.check("upsample", inputs: ["x"]) { t, v in
            var c = t
            return c.upsampleNearest(v["x"]!, factor: 2)
        }
    }

    @Test func pixelShuffleAndUnshuffle() throws {
        try Self.check("pixel_shuffle", inputs: ["x"]) { t, v in
            var c = t
            return c.pixelShuffle(v["x"]!, factor: 2, inverse: false)
        }
        try Self.check("pixel_unshuffle", inputs: ["x"]) { t, v in
            var c = t
            return c.pixelShuffle(v["x"]!, factor: 2, inverse: true)
        }
    }

    @Test func gluAndGeglu() throws {
        try Self.check("glu", inputs: ["x"]) { t, v in
            var c = t
            return c.glu(v["x"]!, axis: 1)
        }
        try Self.check("geglu", inputs: ["x"]) { t, v in
            var c = t
            return c.geglu(v["x"]!)
        }
    }

    static func running() throws -> BatchNormStatistics {
        let file = try SafeTensorsFile(path: Fixtures.directory("ops") + "/gradients.safetensors")
        return BatchNormStatistics(meanKey: "bn.running_mean", varianceKey: "bn.running_var",
                                   mean: try file.tensor("batch_norm.running_mean"),
                                   variance: try file.tensor("batch_norm.running_var"), momentum: 0.1)
    }

    @Test("batch norm in training: batch statistics, gradients, and the running statistics' update")
    func batchNormTraining() throws {
        let stats = try Self.running()
        var tapeSeen: Tape?
        try Self.check("batch_norm_train", inputs: ["x", "w", "b"]) { t, v in
            var c = t
            tapeSeen = t
            return c.batchNorm(v["x"]!, weight: v["w"]!, bias: v["b"]!, running: stats, eps: 1e-5)
        }
        let file = try SafeTensorsFile(path: Fixtures.directory("ops") + "/gradients.safetensors")
        let updates = try #require(tapeSeen).bufferUpdates
        #expect(try updates["bn.running_mean"]!.maxAbsDifference(file.tensor("batch_norm_train.new_running_mean")) < 1e-6)
        #expect(try updates["bn.running_var"]!.maxAbsDifference(file.tensor("batch_norm_train.new_running_var")) < 1e-6)
    }

    @Test("batch norm in evaluation uses the running statistics and changes none")
    func batchNormEvaluation() throws {
        let stats = try Self.running()
        try Self.check("batch_norm_eval", inputs: ["x", "w", "b"]) { t, v in
            var c = t
            let y = c.batchNorm(v["x"]!, weight: v["w"]!, bias: v["b"]!, running: stats, eps: 1e-5)
            #expect(t.bufferUpdates.isEmpty)
            return y
        }
    }

    @Test("the recorded convolution equals the eager one bit for bit")
    func tapeEqualsEager() throws {
        let file = try SafeTensorsFile(path: Fixtures.directory("ops") + "/gradients.safetensors")
        let (x, w, b) = (try file.tensor("conv2d.x"), try file.tensor("conv2d.w"), try file.tensor("conv2d.b"))
        let g = ConvolutionGeometry(stride: [2, 2], padding: [1, 1], groups: 2)
        let tape = Tape()
        var c = tape
        let y = c.convolution2D(tape.input(x, requiresGradient: true), weight: tape.constant(w), bias: tape.constant(b), g)
        #expect(tape.tensor(y) == x.convolution2D(weight: w, bias: b, g))
    }
}
