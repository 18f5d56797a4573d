import Foundation
@testable import KinoModels
import KinoTensor
import Testing

/// Frozen prefixes: the cut a model trains from, and the same logits from cached features.
@Suite struct ForwardCutTests {
    func load(_ name: String) throws -> any KinoModel { try ModelRegistry.load(directory: Fixtures.directory(name)) }

    func input(_ name: String) throws -> Tensor {
        let file = try Fixtures.reference(name)
        return try file.tensor(file.names.contains("input_values") ? "input_values" : "pixel_values")
    }

    /// Features at `cut` then the rest equals the whole forward.
    func splitLogits<M: KinoModel>(_ model: M, _ cut: ForwardCut, _ x: Tensor) throws -> Tensor {
        let f = try model.features(x, at: cut)
        #expect(f.shape == [x.shape[0]] + cut.featureShape)
        return try #require(try CutModel(model, at: cut)(f).logits)
    }

    /// The cut model carries the base model's parameters under the same keys.
    func sameParameters<M: KinoModel>(_ model: M, _ cut: ForwardCut) throws {
        let wrapped = CutModel(model, at: cut)
        #expect(wrapped.allParameters.map(\.key) == model.allParameters.map(\.key))
        #expect(wrapped.trainableParameterCount == model.trainableParameterCount)
    }

    func trainingOnly<M: KinoModel>(_ model: M, _ pattern: KeyPattern) -> M {
        var m = model
        m.freeze(matching: .all)
        m.unfreeze(matching: pattern)
        return m
    }

    @Test func theFactorisedEncoderTrainsFromItsSpatialStreamOrItsHead() throws {
        let model = try load("fe-a")
        let x = try input("fe-a")
        let full = try #require(try model(x).logits)
        let temporal = trainingOnly(model, "temporal.*, classifier.*")
        let spatialCut = try #require(temporal.frozenCut)
        #expect(spatialCut.name == "spatial" && spatialCut.featureShape == [4, 32])
        #expect(try splitLogits(temporal, spatialCut, x).maxAbsDifference(full) <= 1e-5)
        let head = trainingOnly(model, "classifier.*")
        let headCut = try #require(head.frozenCut)
        #expect(headCut.name == "head")
        #expect(try splitLogits(head, headCut, x).maxAbsDifference(full) <= 1e-5)
        #expect(trainingOnly(model, "spatial.layernorm.*, classifier.*").frozenCut == nil)
    }

    @Test(arguments: ["ast-a", "vit-a", "vivit-a"])
    func aLinearProbeTrainsFromTheHeadCut(_ name: String) throws {
        var model = try load(name)
        var random = SplitMix64Source(seed: 0)
        try model.attach(AdapterSpec(method: .linear), random: &random)
        let cut = try #require(model.frozenCut)
        #expect(cut.name == "head")
        let x = try input(name)
        #expect(try splitLogits(model, cut, x).maxAbsDifference(try #require(try model(x).logits)) <= 1e-5)
        try sameParameters(model, cut)
        // LoRA trains inside the encoder: nothing before the head is frozen.
        var lora = try load(name)
        try lora.attach(AdapterSpec(method: .lora), random: &random)
        #expect(lora.frozenCut == nil)
    }

    @Test(arguments: [AdapterMethod.full, .bitfit, .houlsby, .conformer])
    func aFrozenSpatialEncoderGetsNoAdapterAndItsFolderLoadsBack(_ method: AdapterMethod) throws {
        var model = try load("fe-a")
        var spec = AdapterSpec(method: method)
        spec.frozenEncoders = ["spatial."]
        spec.reduction = 8
        var random = SplitMix64Source(seed: 3)
        try model.attach(spec, random: &random)
        let trainable = model.allParameters.filter(\.isTrainable).map(\.key)
        #expect(!trainable.isEmpty && trainable.allSatisfy { $0.hasPrefix("temporal.") || $0.hasPrefix("classifier.") }, "\(trainable)")
        #expect(!model.allParameters.contains { $0.key.hasPrefix("spatial.") && $0.key.contains("adapter") })
        #expect(model.frozenCut?.name == "spatial")
        #expect(spec.summary.hasSuffix(", frozen spatial"))
        guard method != .full else { return }
        model.visitParameters { p in if p.isTrainable { p.value = random.normal(p.shape, standardDeviation: 0.2) } }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AdapterFolder.write(model, spec: spec, base: Fixtures.directory("fe-a"), to: dir + "/adapter")
        var fresh = try load("fe-a")
        let loaded = try AdapterFolder.load(dir + "/adapter", into: &fresh)
        #expect(loaded.spec.frozenEncoders == ["spatial."])
        let x = try input("fe-a")
        #expect(try #require(try fresh(x).logits).maxAbsDifference(try #require(try model(x).logits)) == 0)
    }

    @Test func freezingAnEncoderTheModelLacksOrWithAPEFTTypeIsRefused() throws {
        var ast = try load("ast-a")
        var spec = AdapterSpec(method: .houlsby)
        spec.frozenEncoders = ["spatial."]
        var random = SplitMix64Source(seed: 0)
        #expect(throws: ModelError.self) { try ast.attach(spec, random: &random) }
        spec.method = .lora
        #expect(throws: ModelError.self) { try spec.validate() }
    }
}
