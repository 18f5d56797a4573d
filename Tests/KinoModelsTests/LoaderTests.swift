import Foundation
import KinoModels
import KinoTensor
import Testing

/// Checkpoint verification: every key and shape, unused keys, prefixes, configuration errors.
@Suite("checkpoint loading")
struct LoaderTests {
    /// A copy of fixture `name` whose weights were passed through `edit`.
    static func edited(_ name: String, _ edit: (inout [String: Tensor]) -> Void) throws -> String {
        let dir = try Fixtures.copy(name)
        var tensors = try Fixtures.allTensors(dir + "/model.safetensors")
        edit(&tensors)
        try SafeTensorsWriter.write(tensors, to: dir + "/model.safetensors")
        return dir
    }

    @Test("a wrong shape names the key and both shapes")
    func shapeMismatch() throws {
        let dir = try Self.edited("vit-a") { $0["vit.encoder.layer.1.intermediate.dense.weight"] = Tensor(zeros: [32, 64]) }
        do {
            _ = try ModelRegistry.load(directory: dir)
            Issue.record("loaded a mis-shaped checkpoint")
        } catch let error as ModelError {
            #expect(error == .shapeMismatch(key: "vit.encoder.layer.1.intermediate.dense.weight", expected: [64, 32],
                                            found: [32, 64]))
            let message = error.localizedDescription
            #expect(message.contains("vit.encoder.layer.1.intermediate.dense.weight"))
            #expect(message.contains("[32, 64]") && message.contains("[64, 32]"))
        }
    }

    @Test("a missing weight names the key and the expected shape")
    func missing() throws {
        let dir = try Self.edited("ast-a") { $0["audio_spectrogram_transformer.embeddings.distillation_token"] = nil }
        #expect(throws: ModelError.missingWeight(key: "audio_spectrogram_transformer.embeddings.distillation_token",
                                                 expectedShape: [1, 1, 32])) {
            try ModelRegistry.load(directory: dir)
        }
    }

    @Test("keys without the model prefix load the same model; extra keys are reported")
    func prefixAndUnused() throws {
        let dir = try Self.edited("vivit-a") { tensors in
            for (key, value) in tensors where key.hasPrefix("vivit.") {
                tensors[key] = nil
                tensors[String(key.dropFirst("vivit.".count))] = value
            }
            tensors["extra.adapter.weight"] = Tensor(zeros: [2])
        }
        let model = try ModelRegistry.load(directory: dir)
        #expect(model.unusedKeys == ["extra.adapter.weight"])
        let reference = try Fixtures.reference("vivit-a")
        let logits = try #require(try model(try reference.tensor("pixel_values")).logits)
        #expect(logits.maxAbsDifference(try reference.tensor("logits")) <= 1e-4)
    }

    @Test("wrong input shapes are refused with the expected shape")
    func inputShape() throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory("ast-b"))
        #expect(model.sampleShape == [100, 24])
        #expect(throws: ModelError.inputShape(name: "input_values", expected: "[B] + [100, 24]", found: [1, 24, 100])) {
            try model(Tensor(zeros: [1, 24, 100]))
        }
    }

    @Test("unknown model_type and broken config.json")
    func configurationErrors() throws {
        let dir = try Fixtures.copy("vit-b")
        let configPath = dir + "/config.json"
        try #"{"model_type": "bert"}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        #expect(throws: ModelError.self) { try ModelRegistry.load(directory: dir) }
        try #"{"model_type": "vit", "hidden_size": "wide"}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        do {
            _ = try ModelRegistry.load(directory: dir)
            Issue.record("accepted a string hidden_size")
        } catch let error as ModelError {
            guard case .invalidConfiguration(_, let reason) = error else { throw error }
            #expect(reason.contains("hidden_size"))
        }
        try #"{"model_type": "vit", "hidden_act": "swish"}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        do {
            _ = try ModelRegistry.load(directory: dir)
            Issue.record("accepted an unsupported activation")
        } catch let error as ModelError {
            guard case .invalidConfiguration(_, let reason) = error else { throw error }
            #expect(reason.contains("hidden_act") && reason.contains("swish"))
        }
        try #"{"model_type": "vit", "hidden_size": 30, "num_attention_heads": 4}"#
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        #expect(throws: ModelError.self) { try ModelRegistry.load(directory: dir) }
    }

    @Test("labels come from id2label in index order; parameter counts match the checkpoint")
    func labelsAndParameters() throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory("vit-b"))
        #expect(model.labels == (0..<7).map { "class_\($0)" })
        let file = try SafeTensorsFile(path: Fixtures.directory("vit-b") + "/model.safetensors")
        let stored = file.entries.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
        #expect(model.parameterCount == stored)
    }

    @Test("random weights build the same model shape as the checkpoint, norms at identity")
    func randomWeights() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.directory("vit-b") + "/config.json"))
        let config = try JSONDecoder().decode(ViTConfiguration.self, from: data)
        let random = try ViTForImageClassification(configuration: config, weights: RandomWeights(seed: 1))
        let stored = try ModelRegistry.load(directory: Fixtures.directory("vit-b"))
        #expect(random.parameterCount == stored.parameterCount)
        #expect(random.vit.encoder.finalNorm!.weight.value.storage.allSatisfy { $0 == 1 })
        #expect(random.classifier.bias!.value.storage.allSatisfy { $0 == 0 })
    }
}
