import Foundation
import KinoModels
import KinoTensor
import Testing

/// Logits and last hidden states against PyTorch/transformers on tiny random-weight models
/// (tools/make-model-fixtures.py, tools/make-video-model-fixtures.py); tolerance 1e-4 absolute.
@Suite("parity with the PyTorch references")
struct ParityTests {
    static let tolerance: Float = 1e-4

    @Test("logits and last_hidden_state", arguments: [
        "vit-a", "vit-b", "vivit-a", "vivit-b", "vivit-c", "ast-a", "ast-b", "ast-c", "fe-a", "fe-b", "cct-a", "cct-video-a", "cct-video-b",
        "videomae-a", "videomae-b", "videomae-c", "timesformer-a", "timesformer-b",
    ])
    func matchesReference(_ name: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(name))
        let reference = try Fixtures.reference(name)
        let output = try model(try reference.tensor(model.inputName))
        let logits = try #require(output.logits)
        let dLogits = logits.maxAbsDifference(try reference.tensor("logits"))
        let dHidden = output.lastHiddenState.maxAbsDifference(try reference.tensor("last_hidden_state"))
        print("parity \(name) (\(model.architecture)): max |Δ| logits \(dLogits), last_hidden_state \(dHidden)")
        #expect(dLogits <= Self.tolerance)
        #expect(dHidden <= Self.tolerance)
        #expect(model.unusedKeys.isEmpty)
    }

    @Test("ViTModel backbone with pooler")
    func backbone() throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory("vit-c-backbone"))
        #expect(model.architecture == "ViTModel")
        let reference = try Fixtures.reference("vit-c-backbone")
        let output = try model(try reference.tensor("pixel_values"))
        let dHidden = output.lastHiddenState.maxAbsDifference(try reference.tensor("last_hidden_state"))
        let dPooled = try #require(output.pooled).maxAbsDifference(try reference.tensor("pooler_output"))
        print("parity vit-c-backbone: max |Δ| last_hidden_state \(dHidden), pooler_output \(dPooled)")
        #expect(dHidden <= Self.tolerance && dPooled <= Self.tolerance)
    }

    @Test("ViT with interpolate_pos_encoding on a 40×48 input")
    func interpolatedPositions() throws {
        let model = try #require(try ModelRegistry.load(directory: Fixtures.directory("vit-a")) as? ViTForImageClassification)
        let reference = try Fixtures.reference("vit-a")
        let output = try model.forward(try reference.tensor("pixel_values_interpolated"), interpolatePositionEncoding: true)
        let dLogits = try #require(output.logits).maxAbsDifference(try reference.tensor("logits_interpolated"))
        let dHidden = output.lastHiddenState.maxAbsDifference(try reference.tensor("last_hidden_state_interpolated"))
        print("parity vit-a interpolated: max |Δ| logits \(dLogits), last_hidden_state \(dHidden)")
        #expect(dLogits <= Self.tolerance && dHidden <= Self.tolerance)
        #expect(throws: ModelError.self) {
            try model(try reference.tensor("pixel_values_interpolated"))
        }
    }

    @Test("factorised encoder from a ViT: central-frame spatial stream is the ViT on frames 1, 3, …")
    func factorisedFromViT() throws {
        let vitDirectory = Fixtures.directory("vit-a")
        let vit = try #require(try ModelRegistry.load(directory: vitDirectory) as? ViTForImageClassification)
        let fe = try ViViTFactorisedEncoder.initialised(fromViT: vitDirectory, frames: 6, tubeletFrames: 2,
                                                         temporalLayers: 1, labels: ["a", "b", "c"])
        var clip = Tensor(zeros: [1, 6, 3, 32, 32])
        var generator = SystemRandomNumberGenerator()
        for i in 0..<clip.count { clip.storage[i] = Float.random(in: -1...1, using: &generator) }
        let features = try fe.spatialFeatures(clip)
        #expect(features.shape == [1, 3, 32])
        let frames = Tensor.concatenate([1, 3, 5].map { clip.reshaped([6, 3, 32, 32]).slice($0 ..< $0 + 1) })
        let cls = try vit(frames).lastHiddenState
        var worst: Float = 0
        for t in 0..<3 {
            for j in 0..<32 { worst = max(worst, abs(features[0, t, j] - cls[t, 0, j])) }
        }
        print("factorised from ViT: max |Δ| spatial CLS vs ViT CLS \(worst)")
        #expect(worst <= 1e-5)
        let logits = try #require(try fe(clip).logits)
        #expect(logits.storage.allSatisfy { $0 == 0 }, "zero-initialised head, as scenic's output_projection")
    }

    @Test("a factorised encoder saves to a folder the registry loads back unchanged")
    func factorisedSaveLoad() throws {
        let fe = try ViViTFactorisedEncoder.initialised(fromViT: Fixtures.directory("vit-b"), frames: 4, tubeletFrames: 2,
                                                         temporalLayers: 2, labels: ["x", "y"], kernelInit: .average,
                                                         seed: 3)
        let directory = try Fixtures.temporaryDirectory()
        try fe.save(to: directory)
        let loaded = try ModelRegistry.load(directory: directory)
        #expect(loaded.architecture == "ViViTFactorisedEncoder")
        #expect(loaded.unusedKeys.isEmpty)
        #expect(loaded.labels == ["x", "y"])
        #expect(loaded.parameterCount == fe.parameterCount)
        var clip = Tensor(zeros: [1, 4, 3, 24, 24])
        for i in 0..<clip.count { clip.storage[i] = Float(i % 17) / 8 - 1 }
        #expect(try loaded(clip).lastHiddenState == (try fe(clip)).lastHiddenState)
    }
}
