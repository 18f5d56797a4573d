import Foundation
import KinoTensor

/// Maps a checkpoint folder's `model_type` to the Swift model that runs it.
///
/// ```swift
/// let model = try ModelRegistry.load(directory: "checkpoints/vit-base")
/// let out = try model(pixels)          // out.logits: [B, labels]
/// ```
public enum ModelRegistry {
    /// How to build one architecture from `config.json` bytes and the checkpoint.
    public struct Entry: Sendable {
        /// Prefix of backbone keys in task-model checkpoints (stripped when absent).
        public var keyPrefix: String
        public var make: @Sendable (_ config: Data, _ weights: any WeightSource) throws -> any KinoModel
    }

    /// Registered architectures by `model_type`.
    public static let entries: [String: Entry] = [
        "vit": Entry(keyPrefix: "vit.") { data, weights in
            let config = try JSONDecoder().decode(ViTConfiguration.self, from: data)
            // A ViTModel checkpoint has no head; anything with id2label and a classifier is a classifier.
            if config.common.names("ForImageClassification") || weights.contains("classifier.weight", prefixed: false) {
                return try ViTForImageClassification(configuration: config, weights: weights)
            }
            return try ViTModel(configuration: config, weights: weights)
        },
        "vivit": Entry(keyPrefix: "vivit.") { data, weights in
            try VivitForVideoClassification(configuration: JSONDecoder().decode(ViViTConfiguration.self, from: data),
                                            weights: weights)
        },
        "videomae": Entry(keyPrefix: "videomae.") { data, weights in
            try VideoMAEForVideoClassification(
                configuration: JSONDecoder().decode(VideoMAEConfiguration.self, from: data), weights: weights)
        },
        "timesformer": Entry(keyPrefix: "timesformer.") { data, weights in
            try TimesformerForVideoClassification(
                configuration: JSONDecoder().decode(TimeSformerConfiguration.self, from: data), weights: weights)
        },
        "audio-spectrogram-transformer": Entry(keyPrefix: "audio_spectrogram_transformer.") { data, weights in
            try ASTForAudioClassification(configuration: JSONDecoder().decode(ASTConfiguration.self, from: data),
                                          weights: weights)
        },
        CompactTransformerConfiguration.modelType: Entry(keyPrefix: "") { data, weights in
            try CompactTransformerForAudioClassification(
                configuration: JSONDecoder().decode(CompactTransformerConfiguration.self, from: data), weights: weights)
        },
        CompactVideoConfiguration.modelType: Entry(keyPrefix: "") { data, weights in
            try CompactVideoTransformer(configuration: JSONDecoder().decode(CompactVideoConfiguration.self, from: data), weights: weights)
        },
        ViViTFactorisedConfiguration.modelType: Entry(keyPrefix: "") { data, weights in
            try ViViTFactorisedEncoder(
                configuration: JSONDecoder().decode(ViViTFactorisedConfiguration.self, from: data), weights: weights)
        },
    ]

    /// Loads the model in `directory` (`config.json` + `model.safetensors`).
    ///
    /// Every weight's key and shape is checked; keys the model does not use are listed in
    /// ``KinoModel/unusedKeys``.
    /// - Throws: ``ModelError`` — unreadable files, invalid or unknown configuration, a missing
    ///   or mis-shaped weight (naming the key and both shapes), a malformed safetensors header.
    public static func load(directory: String) throws -> any KinoModel {
        do {
            return try loadUnlocated(directory: directory)
        } catch ModelError.invalidConfiguration(let path, let reason) where path == "config.json" {
            // Models check their sizes knowing only the file name; the folder is known here.
            throw ModelError.invalidConfiguration(path: directory + "/config.json", reason: reason)
        }
    }

    private static func loadUnlocated(directory: String) throws -> any KinoModel {
        let data = try configurationData(directory: directory)
        let type = try modelType(data, directory: directory)
        guard let entry = entries[type] else {
            throw ModelError.unknownModelType(type, known: entries.keys.sorted())
        }
        let weights = try ModelError.funnel {
            try CheckpointWeights(path: directory + "/model.safetensors", prefix: entry.keyPrefix)
        }
        do {
            var model = try ModelError.funnel { try entry.make(data, weights) }
            model.unusedKeys = weights.unusedKeys
            return model
        } catch let error as DecodingError {
            throw ModelError.invalidConfiguration(path: directory + "/config.json", reason: describe(error))
        }
    }

    /// A model of the architecture `config` describes with freshly initialised weights, for
    /// training from scratch: ``CompactInitialiser`` for Kino's compact models, HF's normal(0.02)
    /// init (``RandomWeights``) for the others.
    /// - Throws: ``ModelError`` for an invalid or unknown configuration.
    public static func initialise(configuration data: Data, seed: UInt64, path: String = "config.json") throws -> any KinoModel {
        let type = try modelType(data, directory: (path as NSString).deletingLastPathComponent)
        guard let entry = entries[type] else { throw ModelError.unknownModelType(type, known: entries.keys.sorted()) }
        let source: any WeightSource = [CompactTransformerConfiguration.modelType, CompactVideoConfiguration.modelType].contains(type)
            ? CompactInitialiser(seed: seed) : RandomWeights(seed: seed)
        do {
            return try ModelError.funnel { try entry.make(data, source) }
        } catch let error as DecodingError {
            throw ModelError.invalidConfiguration(path: path, reason: describe(error))
        }
    }

    /// The `model_type` of the folder's config.
    public static func modelType(directory: String) throws -> String {
        try modelType(configurationData(directory: directory), directory: directory)
    }

    /// Decodes `config.json` of `directory` as `T`.
    static func decode<T: Decodable>(_ type: T.Type, directory: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: configurationData(directory: directory))
        } catch let error as DecodingError {
            throw ModelError.invalidConfiguration(path: directory + "/config.json", reason: describe(error))
        }
    }

    /// `config.json` as a JSON object, for deriving a new configuration from it.
    static func configurationObject(directory: String) throws -> [String: Any] {
        let data = try configurationData(directory: directory)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.invalidConfiguration(path: directory + "/config.json", reason: "not a JSON object")
        }
        return object
    }

    /// config.json files larger than this are refused unread (real ones are a few KiB; one
    /// listing ImageNet-21k's labels is under 1 MiB).
    public static let maximumConfigurationBytes = 16 << 20

    private static func configurationData(directory: String) throws -> Data {
        let path = directory + "/config.json"
        do {
            return try RegularFile.contents(path, limit: maximumConfigurationBytes)
        } catch let error as RegularFile.Failure {
            throw ModelError.unreadable(path: path, reason: error.reason)
        }
    }

    private static func modelType(_ data: Data, directory: String) throws -> String {
        struct Probe: Decodable {
            var model_type: String?
        }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: data) else {
            throw ModelError.invalidConfiguration(path: directory + "/config.json", reason: "not a JSON object")
        }
        guard let type = probe.model_type else {
            throw ModelError.invalidConfiguration(path: directory + "/config.json", reason: "no model_type")
        }
        return type
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
             .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "\(path): ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}
