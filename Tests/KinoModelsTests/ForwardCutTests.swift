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
}
