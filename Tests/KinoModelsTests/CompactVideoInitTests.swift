import Foundation
@testable import KinoModels
import KinoTensor
import Testing

/// A compact factorised encoder started from a compact model trained on stills, and the feature
/// adapter between its encoders (Benchmarks/frozen-spatial).
@Suite struct CompactVideoInitTests {
    /// cct-video-a plays the image model: 4 frames, tubelets of 2, one temporal block, width 32.
    static let image = Fixtures.directory("cct-video-a")

    static func configuration(frames: Int = 6, tubelet: Int = 2, temporalLayers: Int = 1, adapter: Int = 0,
                              edit: (inout [String: Any]) -> Void = { _ in }) throws -> CompactVideoConfiguration {
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: image + "/config.json")))
            as? [String: Any])
        json["num_frames"] = frames
        json["tubelet_frames"] = tubelet
        json["num_temporal_layers"] = temporalLayers
        json["feature_adapter_size"] = adapter
        json["id2label"] = ["0": "a", "1": "b"]
        json.removeValue(forKey: "label2id")
        edit(&json)
        return try JSONDecoder().decode(CompactVideoConfiguration.self, from: JSONSerialization.data(withJSONObject: json))
    }

    /// Deterministic pixels of a `[1, frames, 3, 16, 16]` clip.
    static func clip(frames: Int, still: Bool = false) -> Tensor {
        var t = Tensor(zeros: [1, frames, 3, 16, 16])
        let plane = 3 * 16 * 16
        for i in 0..<t.count {
            let f = still ? 0 : i / plane, j = i % plane
            t.storage[i] = Float((j * 37 + f * 101) % 29) / 14 - 1
        }
        return t
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.storage, b.storage).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func spatialCut<M: KinoModel>(_ model: M) throws -> ForwardCut { try #require(model.cuts.first { $0.name == "spatial" }) }

    @Test("central frame: the spatial stream is the image model on frames kt/2, kt/2 + kt, … shown as stills")
    func centralFrame() throws {
        let imageModel = try #require(try ModelRegistry.load(directory: Self.image) as? CompactVideoTransformer)
        let video = try CompactVideoTransformer.initialised(configuration: Self.configuration(frames: 6, tubelet: 2),
                                                            fromImageModel: Self.image)
        let x = Self.clip(frames: 6)
        let features = try video.features(x, at: Self.spatialCut(video))
        #expect(features.shape == [1, 3, 32])
        // Frame 2t+1 as a still tubelet [f, f] for the image model, whose clips have 2 tubelets: 2 at a time.
        let frames = x.reshaped([6, 3 * 16 * 16])
        for t in 0..<3 {
            let f = frames.slice(2 * t + 1 ..< 2 * t + 2)
            let still = Tensor.concatenate([f, f, f, f]).reshaped([1, 4, 3, 16, 16])
            let expected = try imageModel.features(still, at: Self.spatialCut(imageModel))
            var worst: Float = 0
            for j in 0..<32 { worst = max(worst, abs(features[0, t, j] - expected[0, 0, j])) }
            #expect(worst <= 1e-5, "time step \(t): max |Δ| \(worst)")
        }
    }

    @Test("average: on a still clip the spatial stream is the image model's, for a longer tubelet too")
    func average() throws {
        let imageModel = try #require(try ModelRegistry.load(directory: Self.image) as? CompactVideoTransformer)
        let video = try CompactVideoTransformer.initialised(configuration: Self.configuration(frames: 8, tubelet: 4),
                                                            fromImageModel: Self.image, kernelInit: .average)
        let features = try video.features(Self.clip(frames: 8, still: true), at: Self.spatialCut(video))
        let expected = try imageModel.features(Self.clip(frames: 4, still: true), at: Self.spatialCut(imageModel))
        #expect(Self.maxDifference(features.slice(0 ..< 1).reshaped([2, 32]), expected.reshaped([2, 32])) <= 1e-5)
    }

    @Test("temporal init: image copies the image model's temporal side, spatial its last spatial blocks, random neither")
    func temporalInits() throws {
        let weights = try Fixtures.allTensors(Self.image + "/model.safetensors")
        func parameters(_ t: TemporalInit) throws -> [String: Tensor] {
            try CompactVideoTransformer.initialised(configuration: Self.configuration(), fromImageModel: Self.image,
                                                    temporalInit: t).parameters()
        }
        let image = try parameters(.image), spatial = try parameters(.spatial), random = try parameters(.random)
        let block = "encoder.layer.0.attention.attention.query.weight"
        #expect(image["temporal." + block] == weights["temporal." + block])
        #expect(image["temporal.layernorm.weight"] == weights["temporal.layernorm.weight"])
        #expect(image["temporal.cls_token"] == weights["temporal.cls_token"])
        let positions = try #require(image["temporal.position_embeddings"])
        #expect(positions.shape == [1, 4, 32])
        #expect(Array(positions.storage[0..<32]) == Array(weights["temporal.position_embeddings"]!.storage[0..<32]))
        #expect(spatial["temporal." + block] == weights["spatial.encoder.layer.1.attention.attention.query.weight"])
        #expect(spatial["temporal.layernorm.bias"] == weights["spatial.layernorm.bias"])
        #expect(random["temporal." + block] != weights["temporal." + block])
        for p in [image, spatial, random] {
            #expect(p["spatial.encoder.layer.0.output.dense.weight"] == weights["spatial.encoder.layer.0.output.dense.weight"])
            #expect(p["classifier.weight"]?.shape == [2, 32])
        }
    }

    @Test("a new feature adapter is the identity: the same logits as the model without it")
    func adapterStartsAsIdentity() throws {
        let with = try CompactVideoTransformer.initialised(configuration: Self.configuration(adapter: 4), fromImageModel: Self.image)
        let adapter = try #require(with.featureAdapter)
        #expect(adapter.bottleneck.up.weight.value.storage.allSatisfy { $0 == 0 })
        #expect(adapter.bottleneck.down.weight.value.storage.contains { $0 != 0 })
        var without = with
        without.featureAdapter = nil
        let x = Self.clip(frames: 6)
        #expect(try with(x).logits == (try without(x)).logits)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try with.save(to: directory)
        let loaded = try #require(try ModelRegistry.load(directory: directory) as? CompactVideoTransformer)
        #expect(loaded.configuration.featureAdapterSize == 4)
        #expect(loaded.unusedKeys.isEmpty)
        #expect(try loaded(x).logits == (try with(x)).logits)
    }

    @Test("an image model whose stream differs, or too few blocks, is refused naming the field")
    func mismatches() throws {
        #expect {
            try CompactVideoTransformer.initialised(configuration: Self.configuration { $0["tokenizer_channels"] = [16, 32] },
                                                    fromImageModel: Self.image)
        } throws: { ($0 as? LocalizedError)?.errorDescription?.contains("tokenizer_channels") == true }
        #expect {
            try CompactVideoTransformer.initialised(configuration: Self.configuration(temporalLayers: 3), fromImageModel: Self.image,
                                                    temporalInit: .spatial)
        } throws: { ($0 as? LocalizedError)?.errorDescription?.contains("cannot seed 3 temporal") == true }
        #expect {
            try CompactVideoTransformer.initialised(configuration: Self.configuration(temporalLayers: 2), fromImageModel: Self.image,
                                                    temporalInit: .image)
        } throws: { ($0 as? LocalizedError)?.errorDescription?.contains("num_temporal_layers 1") == true }
        #expect {
            try CompactVideoTransformer.initialised(configuration: Self.configuration(), fromImageModel: Fixtures.directory("vit-a"))
        } throws: { ($0 as? LocalizedError)?.errorDescription?.contains("must be a kino-cct-video") == true }
    }
}
