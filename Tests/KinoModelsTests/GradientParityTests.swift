import Foundation
import KinoModels
import KinoTensor
import Testing

/// Whole-model losses and gradients against torch.autograd (tools/make-grad-fixtures.py) on the
/// tiny parity fixtures, the recorded forward against the eager one, and saving every
/// architecture as a folder.
@Suite("gradients of whole models")
struct GradientParityTests {
    static let names = ["vit-a", "vit-b", "vivit-a", "vivit-b", "vivit-c", "ast-a", "ast-b", "fe-a", "fe-b", "cct-a", "cct-video-a", "cct-video-b",
                        "videomae-a", "videomae-b", "videomae-c", "timesformer-a", "timesformer-b"]

    /// Loss and gradients as `kino model grad` computes them.
    static func gradients(_ model: any KinoModel, input: Tensor, golden: SafeTensorsFile)
        throws -> (loss: Float, parameters: Gradients, input: Tensor, tape: Tape, logits: Tape.Variable, hidden: Tape.Variable) {
        let loss = golden.metadata["loss"] ?? "cross-entropy"
        let labels = try JSONDecoder().decode([Int].self, from: Data(golden.metadata["labels"]!.utf8))
        let smoothing = Float(golden.metadata["label_smoothing"] ?? "0") ?? 0
        let tape = Tape(mode: .evaluation)
        var c = tape
        let x = tape.input(input, requiresGradient: true)
        let out = model.forward(x, in: &c)
        let logits = try #require(out.logits)
        let value = loss == "bce"
            ? c.binaryCrossEntropy(logits, targets: try golden.tensor("targets"), divisor: nil)
            : c.crossEntropy(logits, labels: labels, labelSmoothing: smoothing, divisor: nil)
        let grads = tape.backward(from: value)
        return (tape.tensor(value).storage[0], grads, try #require(tape.gradient(of: x)), tape, logits, out.lastHiddenState)
    }

    /// `max |Δ| / max |g|`.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.storage.reduce(0) { max($0, abs($1)) }
        return a.maxAbsDifference(b) / max(scale, 1e-12)
    }

    @Test("loss, every parameter gradient and the input gradient match torch (max |Δ| ≤ 1e-4·max |g|)",
          arguments: names)
    func matchesTorch(_ name: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(name))
        let reference = try Fixtures.reference(name)
        let golden = try SafeTensorsFile(path: Fixtures.directory(name) + "/gradients.safetensors")
        let r = try Self.gradients(model, input: try reference.tensor(model.inputName), golden: golden)
        let expectedLoss = try golden.tensor("loss").storage[0]
        #expect(abs(r.loss - expectedLoss) <= 1e-5 * max(1, abs(expectedLoss)), "loss \(r.loss) vs \(expectedLoss)")
        var worst: (Float, String) = (0, "")
        #expect(Set(r.parameters.keys) == Set(model.allParameters.map(\.key)))
        // The key projection's bias has a gradient that is exactly zero in real arithmetic (adding
        // q·b to every score of a row leaves the softmax unchanged): both sides hold rounding noise
        // (~1e-7) there, so it is checked to be zero, not compared.
        for p in model.allParameters where !p.key.hasSuffix("attention.key.bias") {
            let expected = try golden.tensor("grad." + p.key)
            let got = try #require(r.parameters[p.key], "no gradient for \(p.key)")
            let e = Self.relativeError(got, expected)
            if e > worst.0 { worst = (e, p.key) }
            #expect(e <= 1e-4, "\(name) \(p.key): relative error \(e)")
        }
        for p in model.allParameters where p.key.hasSuffix("attention.key.bias") {
            #expect(r.parameters[p.key]!.storage.allSatisfy { abs($0) < 1e-5 }, "\(p.key) should be ~0")
        }
        let inputError = Self.relativeError(r.input, try golden.tensor("grad." + model.inputName))
        print("gradients \(name): loss \(r.loss) (torch \(expectedLoss)), worst parameter \(worst.1) \(worst.0), input \(inputError)")
        #expect(inputError <= 1e-4)
    }

    @Test("the recorded forward equals the eager forward bit for bit", arguments: names + ["vit-c-backbone"])
    func tapeEqualsEager(_ name: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(name))
        let input = try Fixtures.reference(name).tensor(model.inputName)
        let eager = try model(input)
        let tape = Tape(mode: .training)
        var c = tape
        let out = model.forward(tape.input(input, requiresGradient: false), in: &c)
        #expect(tape.tensor(out.lastHiddenState) == eager.lastHiddenState)
        #expect(out.logits.map { tape.tensor($0) } == eager.logits)
        #expect(out.pooled.map { tape.tensor($0) } == eager.pooled)
    }

    @Test("recomputing blocks in backward (activation checkpointing) gives the same gradients bit for bit")
    func checkpointing() throws {
        var model = try #require(try ModelRegistry.load(directory: Fixtures.directory("vit-a")) as? ViTForImageClassification)
        let input = try Fixtures.reference("vit-a").tensor("pixel_values")
        func run(_ m: ViTForImageClassification) -> (Gradients, Tensor, Int) {
            let tape = Tape(mode: .training)
            var c = tape
            let x = tape.input(input, requiresGradient: true)
            let loss = c.crossEntropy(m.forward(x, in: &c).logits!, labels: [1, 3], labelSmoothing: 0, divisor: nil)
            let count = tape.count
            return (tape.backward(from: loss), tape.gradient(of: x)!, count)
        }
        let (plain, plainInput, plainCount) = run(model)
        model.vit.encoder.recomputesBlocks = true
        let (recomputed, recomputedInput, recomputedCount) = run(model)
        #expect(recomputedCount < plainCount)
        #expect(Set(plain.keys) == Set(recomputed.keys))
        for (key, g) in plain { #expect(recomputed[key] == g, "\(key)") }
        #expect(recomputedInput == plainInput)
    }

    @Test("a low-rank delta on a frozen layer: PEFT keys, only A and B train, output equals the merged weight")
    func lowRankDelta() throws {
        var model = try #require(try ModelRegistry.load(directory: Fixtures.directory("ast-a")) as? ASTForAudioClassification)
        let input = try Fixtures.reference("ast-a").tensor("input_values")
        model.freeze()
        var random = SplitMix64Source(seed: 4)
        for i in model.encoder.layers.indices {
            var delta = LowRankDelta(for: model.encoder.layers[i].query, rank: 4, alpha: 8, random: &random)
            delta.b.value = random.normal(delta.b.shape, standardDeviation: 0.1)   // as if trained
            model.encoder.layers[i].query.delta = delta
        }
        let keys = model.allParameters.filter(\.isTrainable).map(\.key)
        #expect(keys.first == "audio_spectrogram_transformer.encoder.layer.0.attention.attention.query.lora_A.weight")
        #expect(model.trainableParameterCount == 2 * 4 * (32 + 32))
        // W' = W + s·B·A gives the same logits.
        var merged = model
        for i in merged.encoder.layers.indices {
            let q = merged.encoder.layers[i].query, d = q.delta!
            let ba = d.b.value.matmul(d.a.value).scaled(by: d.scale)
            merged.encoder.layers[i].query = Linear(weight: Parameter(key: q.weight.key, value: q.weight.value.adding(ba)), bias: q.bias)
        }
        let difference = try #require(try model(input).logits).maxAbsDifference(try #require(try merged(input).logits))
        #expect(difference < 1e-5)
        let tape = Tape(mode: .evaluation)
        var c = tape
        let loss = c.crossEntropy(model.forward(tape.constant(input), in: &c).logits!, labels: [0, 1], labelSmoothing: 0, divisor: nil)
        let grads = tape.backward(from: loss)
        #expect(Set(grads.keys) == Set(keys))
        #expect(grads.values.allSatisfy { g in g.storage.contains { $0 != 0 } })
    }

    @Test("frozen parameters get no gradient; the trainable ones get the same as in full training")
    func frozenParameters() throws {
        var model = try #require(try ModelRegistry.load(directory: Fixtures.directory("vit-a")) as? ViTForImageClassification)
        let input = try Fixtures.reference("vit-a").tensor("pixel_values")
        func grads(_ m: ViTForImageClassification) -> (Gradients, Int) {
            let tape = Tape(mode: .evaluation)
            var c = tape
            let logits = m.forward(tape.constant(input), in: &c).logits!
            let loss = c.crossEntropy(logits, labels: [1, 3], labelSmoothing: 0, divisor: nil)
            return (tape.backward(from: loss), tape.count)
        }
        let (full, _) = grads(model)
        model.freeze()
        model.unfreeze(matching: "*layer.1.*, classifier.*")
        #expect(model.trainableParameterCount < model.parameterCount)
        let (partial, _) = grads(model)
        let trainable = Set(model.allParameters.filter(\.isTrainable).map(\.key))
        #expect(Set(partial.keys) == trainable)
        for key in trainable { #expect(partial[key] == full[key], "\(key)") }
    }

    @Test("every architecture saves as a folder that loads back with no unused key and the same outputs",
          arguments: ["vit-a", "vit-c-backbone", "vivit-b", "ast-a", "fe-a", "videomae-a", "videomae-b", "timesformer-a"])
    func saveLoadRoundTrip(_ name: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(name))
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try model.save(to: directory)
        let loaded = try ModelRegistry.load(directory: directory)
        #expect(loaded.unusedKeys.isEmpty)
        #expect(loaded.architecture == model.architecture)
        #expect(loaded.parameterCount == model.parameterCount)
        #expect(loaded.allParameters.map(\.key) == model.allParameters.map(\.key))
        let stored = try SafeTensorsFile(path: Fixtures.directory(name) + "/model.safetensors")
        #expect(Set(model.allParameters.map(\.key)) == Set(stored.names), "parameter keys are the checkpoint's keys")
        let input = try Fixtures.reference(name).tensor(model.inputName)
        #expect(try loaded(input).lastHiddenState == (try model(input)).lastHiddenState)
    }
}
