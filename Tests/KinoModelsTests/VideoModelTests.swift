import Foundation
import KinoModels
import KinoTensor
import Testing

/// VideoMAE and TimeSformer beyond logit parity (tools/make-video-model-fixtures.py): pooled
/// vectors, the fixed position table, folder metadata, refused folders, clip preprocessing.
@Suite("VideoMAE and TimeSformer")
struct VideoModelTests {
    static let fixtures = ["videomae-a", "videomae-b", "videomae-c", "timesformer-a", "timesformer-b"]

    /// A copy of fixture `name` whose config.json was passed through `edit`.
    static func editedConfiguration(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = try Fixtures.copy(name)
        let path = dir + "/config.json"
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return dir
    }

    /// The reason of the ``ModelError/invalidConfiguration(path:reason:)`` loading `dir` throws.
    static func configurationReason(_ dir: String) throws -> String {
        do {
            _ = try ModelRegistry.load(directory: dir)
        } catch ModelError.invalidConfiguration(_, let reason) {
            return reason
        }
        Issue.record("\(dir) loaded")
        return ""
    }

    @Test("the vector the classifier reads matches transformers'", arguments: fixtures)
    func pooled(_ name: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(name))
        let reference = try Fixtures.reference(name)
        let output = try model(try reference.tensor("pixel_values"))
        let delta = try #require(output.pooled).maxAbsDifference(try reference.tensor("pooled"))
        print("pooled \(name): max |Δ| \(delta)")
        #expect(delta <= 1e-5)
    }

    @Test("the sinusoid table is transformers' get_sinusoid_encoding_table", arguments: ["videomae-a", "videomae-b", "videomae-c"])
    func sinusoidTable(_ name: String) throws {
        let model = try #require(try ModelRegistry.load(directory: Fixtures.directory(name)) as? VideoMAEForVideoClassification)
        let expected = try Fixtures.reference(name).tensor("position_embeddings")
        #expect(model.positionEmbeddings.shape == expected.shape)
        #expect(model.positionEmbeddings.maxAbsDifference(expected) <= 1e-7)
        // Not a parameter: saved folders keep only the checkpoint's own weights.
        #expect(!model.allParameters.contains { $0.key.contains("position") })
        // Row 0 is sin 0 = 0, cos 0 = 1 alternately.
        #expect(Array(model.positionEmbeddings.storage.prefix(4)) == [0, 1, 0, 1])
    }

    @Test("architecture, labels, sample shape, pooling path and frame sampling come from config.json")
    func metadata() throws {
        let a = try #require(try ModelRegistry.load(directory: Fixtures.directory("videomae-a")) as? VideoMAEForVideoClassification)
        #expect(a.architecture == "VideoMAEForVideoClassification")
        #expect(a.labels == ["class_0", "class_1", "class_2"])
        #expect(a.sampleShape == [4, 3, 24, 24])
        #expect(a.poolNorm?.eps == 1e-5 && a.encoder.finalNorm == nil)
        #expect(a.frameSampling == FrameSampling(frames: 4, stride: 1))
        let b = try #require(try ModelRegistry.load(directory: Fixtures.directory("videomae-b")) as? VideoMAEForVideoClassification)
        #expect(b.poolNorm == nil && b.encoder.finalNorm?.eps == 1e-6)
        let c = try #require(try ModelRegistry.load(directory: Fixtures.directory("videomae-c")) as? VideoMAEForVideoClassification)
        #expect(c.encoder.layers[0].query.bias == nil && c.encoder.layers[0].value.bias == nil)
        #expect(a.encoder.layers[0].key.bias == nil)
        #expect(a.encoder.layers[0].query.bias?.key == "videomae.encoder.layer.0.attention.attention.q_bias")
        let t = try #require(try ModelRegistry.load(directory: Fixtures.directory("timesformer-b")) as? TimesformerForVideoClassification)
        #expect(t.architecture == "TimesformerForVideoClassification")
        #expect(t.labels.count == 5 && t.sampleShape == [3, 3, 32, 32])
        #expect(t.frameSampling.indices() == [0, 1, 2])
        #expect(t.layers[0].attention.qkv.bias == nil && t.finalNorm.eps == 1e-12)
        #expect(t.unusedKeys.isEmpty && c.unusedKeys.isEmpty)
    }

    @Test("a config alone builds the checkpoint's model shape with fresh weights", arguments: fixtures)
    func initialised(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.directory(name) + "/config.json"))
        let fresh = try ModelRegistry.initialise(configuration: data, seed: 1)
        let stored = try ModelRegistry.load(directory: Fixtures.directory(name))
        #expect(fresh.architecture == stored.architecture)
        #expect(fresh.parameterCount == stored.parameterCount)
        let input = try Fixtures.reference(name).tensor("pixel_values")
        #expect(try fresh(input).logits?.shape == [input.shape[0], stored.labels.count])
    }

    @Test("frame indices follow the pipeline's linspace")
    func frameIndices() {
        #expect(FrameSampling(frames: 16, stride: 4).indices() == [0, 4, 8, 12, 16, 21, 25, 29, 33, 37, 42, 46, 50, 54, 58, 63])
        #expect(FrameSampling(frames: 8, stride: 32).indices() == [0, 36, 72, 109, 145, 182, 218, 255])
        #expect(FrameSampling(frames: 8, stride: 1).indices(start: 10) == Array(10..<18))
        #expect(FrameSampling(frames: 1, stride: 4).indices(start: 3) == [3])
    }

    @Test("a missing weight is refused naming the key", arguments: [
        ("videomae-a", "videomae.encoder.layer.1.attention.attention.v_bias", [32]),
        ("videomae-a", "fc_norm.weight", [32]),
        ("videomae-b", "videomae.layernorm.bias", [24]),
        ("timesformer-a", "timesformer.encoder.layer.0.temporal_dense.weight", [24, 24]),
        ("timesformer-a", "timesformer.embeddings.time_embeddings", [1, 4, 24]),
    ])
    func missingKey(_ name: String, _ key: String, _ shape: [Int]) throws {
        let dir = try LoaderTests.edited(name) { $0[key] = nil }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.missingWeight(key: key, expectedShape: shape)) { try ModelRegistry.load(directory: dir) }
    }

    @Test("a mis-shaped weight is refused naming the key and both shapes", arguments: [
        ("videomae-b", "videomae.embeddings.patch_embeddings.projection.weight", [24, 3, 2, 8, 8], [24, 3, 1, 8, 8]),
        ("videomae-a", "videomae.encoder.layer.0.attention.attention.q_bias", [32], [31]),
        ("timesformer-a", "timesformer.encoder.layer.1.attention.attention.qkv.weight", [72, 24], [24, 72]),
        ("timesformer-b", "timesformer.embeddings.position_embeddings", [1, 5, 24], [1, 4, 24]),
    ])
    func wrongShape(_ name: String, _ key: String, _ expected: [Int], _ found: [Int]) throws {
        let dir = try LoaderTests.edited(name) { $0[key] = Tensor(zeros: found) }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.shapeMismatch(key: key, expected: expected, found: found)) { try ModelRegistry.load(directory: dir) }
    }

    @Test("attention_type other than divided_space_time is refused naming the field", arguments: ["joint_space_time", "space_only"])
    func attentionType(_ type: String) throws {
        let dir = try Self.editedConfiguration("timesformer-a") { $0["attention_type"] = type }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reason = try Self.configurationReason(dir)
        #expect(reason.contains("attention_type") && reason.contains(type) && reason.contains("divided_space_time"))
    }

    @Test("bad config fields are refused naming the field", arguments: [
        ("videomae-a", "tubelet_size", 0, "tubelet_size"),
        ("videomae-a", "patch_size", 0, "patch_size"),
        ("videomae-a", "num_frames", 1, "tubelet_size"),
        ("videomae-a", "num_hidden_layers", 3, "num_hidden_layers"),
        ("timesformer-a", "num_hidden_layers", 5, "num_hidden_layers"),
        ("timesformer-a", "patch_size", 0, "patch_size"),
        ("timesformer-a", "num_frames", 0, "num_frames"),
        ("timesformer-b", "hidden_size", 25, "hidden_size"),
    ])
    func badField(_ name: String, _ field: String, _ value: Int, _ named: String) throws {
        let dir = try Self.editedConfiguration(name) { $0[field] = value }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reason = try Self.configurationReason(dir)
        #expect(reason.contains(named), "\(reason)")
    }

    @Test("a VideoMAE config that disagrees with its pooling weights is refused")
    func poolingMismatch() throws {
        // use_mean_pooling false needs videomae.layernorm, which a mean-pooled checkpoint lacks.
        let dir = try Self.editedConfiguration("videomae-a") { $0["use_mean_pooling"] = false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.missingWeight(key: "videomae.layernorm.weight", expectedShape: [32])) {
            try ModelRegistry.load(directory: dir)
        }
    }

    @Test("wrong frame counts and sizes are refused with the expected shape", arguments: ["videomae-a", "timesformer-a"])
    func inputShape(_ name: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(name))
        var shape = [1] + model.sampleShape
        shape[1] += 1
        #expect(throws: ModelError.inputShape(name: "pixel_values", expected: "[B] + \(model.sampleShape)", found: shape)) {
            try model(Tensor(zeros: shape))
        }
    }

    @Test("VideoMAE takes adapters on its ViT blocks (no final norm with mean pooling); TimeSformer refuses them")
    func adapters() throws {
        var lora = try ModelRegistry.load(directory: Fixtures.directory("videomae-a"))
        var random = SplitMix64Source(seed: 0)
        try lora.attach(AdapterSpec(method: .lora), random: &random)
        // Rank 8 on query and value of 2 blocks at width 32, and the 3-label head.
        #expect(lora.trainableParameterCount == 2 * 2 * (8 * 32 + 32 * 8) + 3 * 32 + 3)
        #expect(lora.allParameters.filter(\.isTrainable).first?.key
                == "videomae.encoder.layer.0.attention.attention.query.lora_A.weight")
        var bitfit = try ModelRegistry.load(directory: Fixtures.directory("videomae-a"))
        try bitfit.attach(AdapterSpec(method: .bitfit), random: &random)
        let trained = Set(bitfit.allParameters.filter(\.isTrainable).map(\.key))
        #expect(trained.contains("videomae.encoder.layer.1.attention.attention.q_bias"))
        #expect(trained.contains("videomae.encoder.layer.1.attention.attention.v_bias"))
        // Per block q/v biases, attention output, MLP and both norms; patch embedding; fc_norm; head.
        #expect(bitfit.trainableParameterCount == 2 * (32 + 32 + 32 + 64 + 32 + 32 + 32) + 32 + 32 + 3 * 32 + 3)
        var houlsby = try ModelRegistry.load(directory: Fixtures.directory("videomae-a"))
        try houlsby.attach(AdapterSpec(method: .houlsby), random: &random)
        let input = try Fixtures.reference("videomae-a").tensor("pixel_values")
        #expect(try houlsby(input).logits?.shape == [2, 3])
        var timesformer = try ModelRegistry.load(directory: Fixtures.directory("timesformer-a"))
        #expect(throws: ModelError.self) { try timesformer.attach(AdapterSpec(method: .lora), random: &random) }
        try timesformer.attach(AdapterSpec(method: .full), random: &random)
        #expect(timesformer.trainableParameterCount == timesformer.parameterCount)
    }

    @Test("VideoMAEImageProcessor from the folder: shortest edge 36, crop 32, ImageNet mean/std")
    func processorFromFolder() throws {
        let directory = Fixtures.directory("videomae-b")
        let model = try ModelRegistry.load(directory: directory)
        let pre = try VideoPreprocessor.forModel(model, directory: directory)
        #expect(pre.shortSide == 36 && pre.cropSize == 32)
        let reference = try Fixtures.reference("videomae-b")
        let t = try reference.tensor("image")
        let image = RGB8Image(width: t.shape[1], height: t.shape[0], pixels: t.storage.map { UInt8($0) })
        let clip = pre.clip([image, image])
        let level: Float = 1 / (255 * 0.224)
        let delta = clip.reshaped([1] + clip.shape).maxAbsDifference(try reference.tensor("processed_pixel_values"))
        print("preprocessing VideoMAE: max |Δ| \(delta) (one level of the narrowest channel = \(level))")
        #expect(delta <= 2 * level + 1e-5)
        // A clip of the model's frame count is what the model takes.
        let four = pre.clip(Array(repeating: image, count: 4))
        #expect(Array(four.shape) == model.sampleShape)
        #expect(try model(four.reshaped([1] + four.shape)).logits?.shape == [1, 3])
    }

    @Test("without preprocessor_config.json: ImageNet mean/std, rescale 1/255, short side = crop")
    func processorDefaults() throws {
        let directory = Fixtures.directory("timesformer-a")
        #expect(!FileManager.default.fileExists(atPath: directory + "/preprocessor_config.json"))
        let model = try ModelRegistry.load(directory: directory)
        let pre = try VideoPreprocessor.forModel(model, directory: directory)
        #expect(pre.shortSide == 24 && pre.cropSize == 24)
        let white = RGB8Image(width: 30, height: 24, pixels: [UInt8](repeating: 255, count: 30 * 24 * 3))
        let black = RGB8Image(width: 30, height: 24, pixels: [UInt8](repeating: 0, count: 30 * 24 * 3))
        let clip = pre.clip([white, black])
        #expect(clip.shape == [2, 3, 24, 24])
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        for ch in 0..<3 {
            #expect(abs(clip[0, ch, 5, 7] - (1 - mean[ch]) / std[ch]) <= 1e-5)
            #expect(abs(clip[1, ch, 5, 7] + mean[ch] / std[ch]) <= 1e-5)
        }
        // ViViT keeps its own range.
        let vivit = try ModelRegistry.load(directory: Fixtures.directory("vivit-a"))
        let original = try VideoPreprocessor.forModel(vivit, directory: Fixtures.directory("vivit-a"))
        #expect(original.normalisation == nil && original.range == .original)
    }

    @Test("a preprocessor_config.json that cannot feed the model is refused naming the field")
    func processorRefused() throws {
        let dir = try Fixtures.copy("videomae-b")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/preprocessor_config.json"
        try #"{"crop_size": {"height": 40, "width": 40}, "size": {"shortest_edge": 40}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try VideoPreprocessor.load(directory: dir, cropSize: 32)
            Issue.record("accepted a crop the model cannot take")
        } catch ModelError.invalidConfiguration(let at, let reason) {
            #expect(at == path && reason.contains("crop_size"))
        }
        try #"{"size": {"longest_edge": 40}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ModelError.self) { try VideoPreprocessor.load(directory: dir, cropSize: 32) }
        // A file without mean/std gets VideoMAEImageProcessor's own 0.5 defaults, as in transformers.
        try #"{"size": {"shortest_edge": 32}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let half = try VideoPreprocessor.load(directory: dir, cropSize: 32)
        #expect(half.normalisation == ChannelNormalisation(rescale: 1 / 255, mean: [0.5, 0.5, 0.5], standardDeviation: [0.5, 0.5, 0.5]))
    }
}
