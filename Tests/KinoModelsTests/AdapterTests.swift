import Foundation
@testable import KinoModels
import KinoTensor
import Testing

/// Adapters attached to the tiny fixture models: sizes, what trains, merging, folders.
@Suite("adapters")
struct AdapterTests {
    /// A fixture model with `spec` attached and every trainable weight redrawn (so a round trip
    /// or a merge is checked on an adapter that changes the output).
    static func adapted(_ name: String, _ spec: AdapterSpec, seed: UInt64 = 1) throws -> any KinoModel {
        var model = try ModelRegistry.load(directory: Fixtures.directory(name))
        return try Self.adapt(&model, spec, seed: seed)
    }

    static func adapt<M: KinoModel>(_ model: inout M, _ spec: AdapterSpec, seed: UInt64) throws -> any KinoModel {
        var random = SplitMix64Source(seed: seed)
        try model.attach(spec, random: &random)
        model.visitParameters { p in
            guard p.isTrainable else { return }
            let noise = random.normal(p.shape, standardDeviation: 0.2)
            p.value = p.key.hasSuffix(".ia3_l") ? noise.adding(Tensor(repeating: 1, shape: p.shape)) : noise
        }
        return model
    }

    static func logits(_ model: any KinoModel, _ input: Tensor) throws -> Tensor {
        try #require(try model(input).logits)
    }

    @Test("bottleneck and Conformer adapters at width 768, reduction 96: 13,064 and 19,488 weights")
    func counts() {
        var random = SplitMix64Source(seed: 0)
        #expect(Bottleneck(key: "a", width: 768, size: 8, random: &random).parameterCount == 13_064)
        // PETL_AST counts 21,024: 1,536 more for a LayerNorm whose output it discards (quirk C).
        #expect(ConformerAdapter(key: "a", width: 768, size: 8, kernelSize: 31, random: &random).parameterCount == 19_488)
        #expect(AdapterSpec(method: .conformer).bottleneck(width: 768) == 8)
        var s = AdapterSpec(method: .houlsby)
        s.reduction = 64
        #expect(s.bottleneck(width: 768) == 12)
        #expect(Bottleneck(key: "a", width: 768, size: 12, random: &random).parameterCount == 19_212)
    }

    @Test("each method trains exactly its weights", arguments: AdapterMethod.allCases)
    func trainable(_ method: AdapterMethod) throws {
        var model = try ModelRegistry.load(directory: Fixtures.directory("ast-a"))
        let total = model.parameterCount
        var random = SplitMix64Source(seed: 0)
        try model.attach(AdapterSpec(method: method), random: &random)
        let keys = model.allParameters.filter(\.isTrainable).map(\.key)
        // ast-a: width 32, 2 layers, intermediate 64, 5 labels; head = classifier.layernorm + dense.
        let head = 32 * 2 + 32 * 5 + 5
        let expected: Int
        switch method {
        case .full: expected = total
        case .linear: expected = head
        case .bitfit: expected = head + 2 * (4 * 32 + 64 + 32 + 2 * 32) + 32 + 32  // per block 6 linear and 2 LN biases; final LN; patch
        case .lora: expected = head + 2 * 2 * (8 * 32 + 32 * 8)
        case .ia3: expected = head + 2 * (32 + 32 + 64)
        case .houlsby: expected = head + 2 * (2 * (32 + 1 + 32 + 32) + 2 * 64) + 64  // size round(32/96) → 1
        case .pfeiffer: expected = head + 2 * ((32 + 1 + 32 + 32) + 64) + 64
        case .conformer: expected = head + 2 * ((2 * 32 + 2) + (31 + 1) + 2 + (32 + 32) + 64) + 64
        case .prompt: expected = head + 2 * 25 * 32
        case .prefix: expected = head + 2 * 2 * 24 * 32
        }
        #expect(model.trainableParameterCount == expected, "\(method): \(keys)")
        if method == .bitfit { #expect(keys.allSatisfy { $0.hasSuffix(".bias") || $0.hasPrefix("classifier") }) }
    }

    @Test("an attached, untrained LoRA, IA³, bottleneck or prompt-free adapter leaves the logits unchanged",
          arguments: [AdapterMethod.lora, .ia3, .houlsby, .pfeiffer])
    func identityAtInit(_ method: AdapterMethod) throws {
        let base = try ModelRegistry.load(directory: Fixtures.directory("vit-a"))
        var model = base
        var random = SplitMix64Source(seed: 3)
        try model.attach(AdapterSpec(method: method), random: &random)
        let input = try Fixtures.reference("vit-a").tensor("pixel_values")
        #expect(try Self.logits(model, input).maxAbsDifference(Self.logits(base, input)) == 0)
    }

    @Test("merged LoRA and IA³ give the adapter's logits (≤ 1e-5); unmerging LoRA restores W (≤ 1e-6)",
          arguments: [AdapterMethod.lora, .ia3])
    func merge(_ method: AdapterMethod) throws {
        var spec = AdapterSpec(method: method)
        spec.targets = LinearTarget.allCases
        let adapted = try Self.adapted("vit-a", spec)
        let input = try Fixtures.reference("vit-a").tensor("pixel_values")
        var merged = adapted
        try merged.mergeAdapters()
        #expect(merged.allParameters.allSatisfy { !$0.key.contains("lora_") && !$0.key.hasSuffix("ia3_l") })
        let a = try Self.logits(adapted, input), m = try Self.logits(merged, input)
        #expect(a.maxAbsDifference(m) <= 1e-5)
        #expect(a.maxAbsDifference(try Self.logits(ModelRegistry.load(directory: Fixtures.directory("vit-a")), input)) > 1e-2)
        if method == .lora {
            var vit = try #require(adapted as? ViTForImageClassification)
            let original = vit.vit.encoder.layers[0].query
            vit.vit.encoder.layers[0].query.mergeDelta()
            vit.vit.encoder.layers[0].query.unmergeDelta(try #require(original.delta))
            #expect(vit.vit.encoder.layers[0].query.weight.value.maxAbsDifference(original.weight.value) <= 1e-6)
        }
    }

    @Test("merging a non-linear adapter is refused, naming why", arguments: [AdapterMethod.houlsby, .conformer, .prompt, .prefix])
    func mergeRefused(_ method: AdapterMethod) throws {
        var model = try Self.adapted("ast-a", AdapterSpec(method: method))
        #expect {
            try model.mergeAdapters()
        } throws: { error in
            guard case ModelError.notMergeable(let kind, let reason) = error else { return false }
            return !kind.isEmpty && !reason.isEmpty
        }
    }

    @Test("with a proper init the bottleneck's up-projection gets a gradient at once, the down-projection after one step")
    func bottleneckLearns() throws {
        var model = try ModelRegistry.load(directory: Fixtures.directory("ast-a"))
        var random = SplitMix64Source(seed: 0)
        var spec = AdapterSpec(method: .pfeiffer)
        spec.reduction = 4
        try model.attach(spec, random: &random)
        let input = try Fixtures.reference("ast-a").tensor("input_values")
        func gradients(_ m: any KinoModel) -> Gradients {
            func run<M: KinoModel>(_ m: M) -> Gradients {
                let tape = Tape(mode: .training)
                var c = tape
                let logits = m.forward(c.constant(input), in: &c).logits!
                let labels = Array(repeating: 1, count: input.shape[0])
                return tape.backward(from: c.crossEntropy(logits, labels: labels, labelSmoothing: 0, divisor: nil))
            }
            return run(m)
        }
        let g = gradients(model)
        let up = try #require(g.first { $0.key.hasSuffix("adapter_ffn.up.weight") }?.value)
        let down = try #require(g.first { $0.key.hasSuffix("adapter_ffn.down.weight") }?.value)
        #expect(up.storage.contains { $0 != 0 })
        #expect(down.storage.allSatisfy { $0 == 0 })   // W_up is still zero
        // One SGD step on W_up, then W_down learns too (PETL_AST's all-zero init never gets here).
        model.visitParameters { p in
            if let grad = g[p.key], p.key.hasSuffix("adapter_ffn.up.weight") { p.value = p.value.adding(grad.scaled(by: -1)) }
        }
        let g2 = gradients(model)
        #expect(try #require(g2.first { $0.key.hasSuffix("adapter_ffn.down.weight") }?.value).storage.contains { $0 != 0 })
    }

    @Test("the Conformer adapter records its batch statistics while training and uses the running ones otherwise")
    func conformerBatchNorm() throws {
        let model = try Self.adapted("ast-a", AdapterSpec(method: .conformer))
        let input = try Fixtures.reference("ast-a").tensor("input_values")
        func updates<M: KinoModel>(_ m: M) -> [String: Tensor] {
            let tape = Tape(mode: .training)
            var c = tape
            _ = m.forward(c.constant(input), in: &c)
            return tape.bufferUpdates
        }
        let u = updates(model)
        #expect(u.count == 4)  // mean and variance of 2 blocks
        #expect(Set(u.keys) == Set(model.buffers.keys))
        #expect(try Self.logits(model, input).storage.allSatisfy(\.isFinite))
    }

    @Test("every method's adapter folder loads back onto a fresh base with the same logits",
          arguments: AdapterMethod.allCases.filter { $0 != .full }, AdapterNaming.allCases)
    func roundTrip(_ method: AdapterMethod, _ naming: AdapterNaming) throws {
        for name in ["ast-a", "vit-a"] {
            let adapted = try Self.adapted(name, AdapterSpec(method: method))
            let dir = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            func write<M: KinoModel>(_ m: M) throws {
                try AdapterFolder.write(m, spec: AdapterSpec(method: method), base: Fixtures.directory(name), naming: naming,
                                        to: dir + "/adapter")
            }
            try write(adapted)
            var fresh = try ModelRegistry.load(directory: Fixtures.directory(name))
            let loaded = try AdapterFolder.load(dir + "/adapter", into: &fresh)
            #expect(loaded.spec.method == method)
            #expect(loaded.naming == naming || !["lora", "ia3", "houlsby", "pfeiffer", "conformer"].contains(method.rawValue))
            let input = try Fixtures.reference(name).tensor(name.hasPrefix("ast") ? "input_values" : "pixel_values")
            #expect(try Self.logits(fresh, input).maxAbsDifference(Self.logits(adapted, input)) == 0, "\(name) \(method)")
            #expect(fresh.trainableParameterCount == adapted.trainableParameterCount)
        }
    }

    @Test("v5 spelling and back")
    func naming() {
        let legacy = "vit.encoder.layer.11.attention.attention.query.lora_A.weight"
        #expect(AdapterNaming.v5.spell(legacy) == "vit.layers.11.attention.q_proj.lora_A.weight")
        #expect(AdapterNaming.legacy("vit.layers.11.attention.q_proj.lora_A.weight") == legacy)
        let pairs = [("x.encoder.layer.0.attention.output.dense.ia3_l", "x.layers.0.attention.o_proj.ia3_l"),
                     ("x.encoder.layer.0.output.dense.ia3_l", "x.layers.0.mlp.fc2.ia3_l"),
                     ("x.encoder.layer.0.intermediate.dense.weight", "x.layers.0.mlp.fc1.weight"),
                     ("classifier.dense.weight", "classifier.dense.weight")]
        for (a, b) in pairs {
            #expect(AdapterNaming.v5.spell(a) == b)
            #expect(AdapterNaming.legacy(b) == a)
        }
    }

    @Test("a tensor no module takes, a wrong shape, an unknown peft_type and a target that matches nothing are errors naming them")
    func badAdapters() throws {
        let adapted = try Self.adapted("ast-a", AdapterSpec(method: .lora))
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func write<M: KinoModel>(_ m: M) throws {
            try AdapterFolder.write(m, spec: AdapterSpec(method: .lora), base: "ast-a", naming: .legacy, to: dir + "/a")
        }
        try write(adapted)
        let weights = dir + "/a/adapter_model.safetensors", config = dir + "/a/adapter_config.json"
        let original = try Fixtures.allTensors(weights)
        func expectError(_ fragment: String) throws {
            var base = try ModelRegistry.load(directory: Fixtures.directory("ast-a"))
            #expect {
                try AdapterFolder.load(dir + "/a", into: &base)
            } throws: { error in
                let text = (error as? ModelError)?.errorDescription ?? ""
                return text.contains(fragment)
            }
        }
        // An extra tensor.
        var extra = original
        extra["base_model.model.audio_spectrogram_transformer.encoder.layer.0.attention.attention.key.lora_A.weight"] = Tensor(zeros: [8, 32])
        try SafeTensorsWriter.write(extra, to: weights)
        try expectError("attention.attention.key.lora_A.weight\" matches no lora module")
        // A wrong shape.
        var wrong = original
        let key = "base_model.model.audio_spectrogram_transformer.encoder.layer.1.attention.attention.value.lora_B.weight"
        wrong[key] = Tensor(zeros: [32, 4])
        try SafeTensorsWriter.write(wrong, to: weights)
        try expectError("has shape [32, 4], the base model needs [32, 8]")
        // A missing tensor.
        var missing = original
        missing.removeValue(forKey: key)
        try SafeTensorsWriter.write(missing, to: weights)
        try expectError("no tensor for audio_spectrogram_transformer.encoder.layer.1.attention.attention.value.lora_B.weight")
        try SafeTensorsWriter.write(original, to: weights)
        // v5 targets over legacy tensors: PEFT would load this and leave every lora_B at zero.
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "\"query\"", with: "\"q_proj\"").replacingOccurrences(of: "\"value\"", with: "\"v_proj\"")
            .write(toFile: config, atomically: true, encoding: .utf8)
        try expectError("match no layer of this model under the legacy module names")
        try text.replacingOccurrences(of: "\"LORA\"", with: "\"LOHA\"").write(toFile: config, atomically: true, encoding: .utf8)
        try expectError("peft_type \"LOHA\" is not supported")
    }
}

/// Adapters written by PEFT (tools/make-adapter-fixtures.py: peft 0.13.2 + transformers 4.46.3
/// for `-v4`, peft 0.21.2 + transformers 5.24.0 for `-v5`, non-zero weights, a new head saved
/// as `modules_to_save`) load in Kino with PEFT's logits.
@Suite("adapters made by PEFT")
struct PEFTInteropTests {
    static let folders = ["ast-lora-v4", "ast-rslora-v4", "ast-ia3-v4", "vit-lora-v4", "vit-lora-all-v4", "vit-ia3-v4",
                          "ast-lora-v5", "ast-ia3-v5", "vit-lora-v5", "vit-ia3-v5",
                          // Written by `kino train`; the logits are PEFT's after PeftModel.from_pretrained.
                          "kino-ast-lora-legacy", "kino-ast-ia3-v5"]

    @Test("logits match PEFT's within 1e-4", arguments: folders)
    func matchesPEFT(_ name: String) throws {
        let baseName = name.contains("ast-") ? "ast-a" : "vit-a"
        var model = try ModelRegistry.load(directory: Fixtures.directory(baseName))
        let loaded = try AdapterFolder.load(Fixtures.directory("adapters/" + name), into: &model)
        #expect(loaded.naming == (name.hasSuffix("v5") ? .v5 : .legacy))
        #expect(!name.contains("lora-all") || loaded.spec.targets == LinearTarget.allCases)
        let reference = try SafeTensorsFile(path: Fixtures.directory("adapters/" + name) + "/reference.safetensors")
        let input = try reference.tensor(baseName == "ast-a" ? "input_values" : "pixel_values")
        let logits = try #require(try model(input).logits)
        #expect(logits.maxAbsDifference(try reference.tensor("logits")) <= 1e-4, "\(name)")
    }

    @Test("a merged LoRA folder equals the adapter and PEFT's merge_and_unload folder")
    func merged() throws {
        var model = try ModelRegistry.load(directory: Fixtures.directory("vit-a"))
        try AdapterFolder.load(Fixtures.directory("adapters/vit-lora-v4"), into: &model)
        try model.mergeAdapters()
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.save(to: dir)
        let reloaded = try ModelRegistry.load(directory: dir)
        #expect(reloaded.unusedKeys.isEmpty)
        let reference = try SafeTensorsFile(path: Fixtures.directory("adapters/vit-lora-v4-merged") + "/reference.safetensors")
        let input = try reference.tensor("pixel_values")
        #expect(try #require(try reloaded(input).logits).maxAbsDifference(try reference.tensor("logits")) <= 1e-4)
        let peftMerged = try ModelRegistry.load(directory: Fixtures.directory("adapters/vit-lora-v4-merged"))
        #expect(try #require(try peftMerged(input).logits).maxAbsDifference(try reference.tensor("logits")) <= 1e-4)
    }
}
