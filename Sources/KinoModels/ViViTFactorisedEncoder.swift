// ViViT Model 2, the factorised encoder (Arnab et al. 2021), following scenic's
// projects/vivit/model.py (SpaceTimeViViT with attention_config.type = "factorized_encoder").
import Foundation
import KinoTensor

/// `config.json` of `model_type: "vivit-factorised-encoder"`, Kino's own layout (scenic
/// publishes only Flax checkpoints; there is no Hugging Face class).
///
/// Spatial and temporal transformers share width, heads, MLP size, activation and eps;
/// `num_hidden_layers` counts spatial blocks, `num_temporal_layers` temporal ones.
public struct ViViTFactorisedConfiguration: Codable, Sendable, Equatable {
    public var common: CommonConfiguration
    public var temporalLayers: Int
    public var imageSize: Int
    public var numberOfFrames: Int
    /// `[t, h, w]`.
    public var tubeletSize: [Int]
    public var numberOfChannels: Int

    public static let modelType = "vivit-factorised-encoder"

    enum CodingKeys: String, CodingKey {
        case temporalLayers = "num_temporal_layers"
        case imageSize = "image_size"
        case numberOfFrames = "num_frames"
        case tubeletSize = "tubelet_size"
        case numberOfChannels = "num_channels"
    }

    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temporalLayers = try c.decodeIfPresent(Int.self, forKey: .temporalLayers) ?? 4
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        numberOfFrames = try c.decodeIfPresent(Int.self, forKey: .numberOfFrames) ?? 32
        tubeletSize = try c.decodeIfPresent([Int].self, forKey: .tubeletSize) ?? [2, 16, 16]
        numberOfChannels = try c.decodeIfPresent(Int.self, forKey: .numberOfChannels) ?? 3
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(temporalLayers, forKey: .temporalLayers)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(numberOfFrames, forKey: .numberOfFrames)
        try c.encode(tubeletSize, forKey: .tubeletSize)
        try c.encode(numberOfChannels, forKey: .numberOfChannels)
    }

    /// Tubelets along time, height and width.
    public var grid: [Int] { PatchGeometry(kernel: tubeletSize).grid([numberOfFrames, imageSize, imageSize]) }

    var temporalShape: EncoderShape {
        var s = common.encoderShape
        s.layers = temporalLayers
        return s
    }
}

/// The factorised encoder: a spatial ViT run on every time index's tubelet tokens, its CLS
/// outputs (after the spatial final norm) fed with a temporal CLS token through a temporal
/// transformer; logits from the temporal CLS.
///
/// Keys: `spatial.embeddings.{cls_token, position_embeddings, patch_embeddings.projection.*}`,
/// `spatial.encoder.layer.{i}.*`, `spatial.layernorm.*`, `temporal.{cls_token,
/// position_embeddings}`, `temporal.encoder.layer.{i}.*`, `temporal.layernorm.*`, `classifier.*`.
public struct ViViTFactorisedEncoder: KinoModel {
    public let configuration: ViViTFactorisedConfiguration
    public var spatialClsToken: Tensor
    /// `[1, 1 + nH·nW, D]`, added after the CLS token is prepended.
    public var spatialPositions: Tensor
    /// Conv3d weight `[D, C, t, h, w]`.
    public var tubeletWeight: Tensor
    public var tubeletBias: Tensor
    public var spatial: TransformerEncoder
    public var temporalClsToken: Tensor
    /// `[1, 1 + nT, D]`.
    public var temporalPositions: Tensor
    public var temporal: TransformerEncoder
    public var classifier: Linear
    public let labels: [String]
    public private(set) var unusedKeys: [String] = []

    /// Loads every part from `source` (a checkpoint, or ``FactorisedInitialiser`` for the
    /// ViT-initialised model).
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViViTFactorisedConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        guard c.tubeletSize.count == 3, c.grid.count == 3, c.grid.allSatisfy({ $0 > 0 }), c.temporalLayers >= 0 else {
            throw ModelError.invalidConfiguration(path: "config.json",
                                                  reason: "tubelet_size \(c.tubeletSize) for \(c.numberOfFrames)×\(c.imageSize)²")
        }
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "the factorised encoder needs id2label")
        }
        let (nt, nh, nw) = (c.grid[0], c.grid[1], c.grid[2])
        spatialClsToken = try source.tensor("spatial.embeddings.cls_token", [1, 1, d])
        spatialPositions = try source.tensor("spatial.embeddings.position_embeddings", [1, 1 + nh * nw, d])
        tubeletWeight = try source.tensor("spatial.embeddings.patch_embeddings.projection.weight",
                                          [d, c.numberOfChannels] + c.tubeletSize)
        tubeletBias = try source.tensor("spatial.embeddings.patch_embeddings.projection.bias", [d])
        spatial = try .load(source, root: "spatial.", shape: c.common.encoderShape)
        temporalClsToken = try source.tensor("temporal.cls_token", [1, 1, d])
        temporalPositions = try source.tensor("temporal.position_embeddings", [1, 1 + nt, d])
        temporal = try .load(source, root: "temporal.", shape: c.temporalShape)
        classifier = try .load(source, "classifier", input: d, output: labels.count, prefixed: false)
        if let checkpoint = source as? CheckpointWeights { unusedKeys = checkpoint.unusedKeys }
    }

    public var architecture: String { "ViViTFactorisedEncoder" }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] {
        [configuration.numberOfFrames, configuration.numberOfChannels, configuration.imageSize, configuration.imageSize]
    }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }

    public var parameterCount: Int {
        spatialClsToken.count + spatialPositions.count + tubeletWeight.count + tubeletBias.count
            + spatial.parameterCount + temporalClsToken.count + temporalPositions.count + temporal.parameterCount
            + classifier.parameterCount
    }

    /// The spatial stream alone: CLS token per time index after the spatial final norm,
    /// `[B, nT, D]`. With a frozen spatial transformer these can be computed once and cached.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)``.
    public func spatialFeatures(_ pixels: Tensor) throws -> Tensor {
        try checkInput(pixels)
        let (b, d) = (pixels.shape[0], configuration.common.hiddenSize)
        let nt = configuration.grid[0], perFrame = configuration.grid[1] * configuration.grid[2]
        // Token order is t-major, so [B, nT·nHW, D] is already [B·nT, nHW, D].
        var patches = pixels.patchEmbedding(weight: tubeletWeight, bias: tubeletBias)
        patches.reshape([b * nt, perFrame, d])
        let hidden = spatial(embed(prefix: [spatialClsToken], patches: patches, positions: spatialPositions))
        return token(0, of: hidden).reshaped([b, nt, d])
    }

    /// Temporal transformer and head on spatial CLS features `[B, nT, D]`.
    public func temporalForward(_ features: Tensor) -> ModelOutput {
        let hidden = temporal(embed(prefix: [temporalClsToken], patches: features, positions: temporalPositions))
        return ModelOutput(logits: classifier(token(0, of: hidden)), lastHiddenState: hidden)
    }

    /// Runs `pixel_values` `[B, T, C, H, W]`; `lastHiddenState` is the temporal transformer's
    /// output `[B, 1 + nT, D]`.
    public func callAsFunction(_ pixels: Tensor) throws -> ModelOutput {
        temporalForward(try spatialFeatures(pixels))
    }
}
