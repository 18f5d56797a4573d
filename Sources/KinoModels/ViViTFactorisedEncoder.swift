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
    public internal(set) var configuration: ViViTFactorisedConfiguration
    public var spatialClsToken: Parameter
    /// `[1, 1 + nH·nW, D]`, added after the CLS token is prepended.
    public var spatialPositions: Parameter
    /// Conv3d `[D, C, t, h, w]`.
    public var tubeletEmbedding: PatchEmbedding
    public var spatial: TransformerEncoder
    public var temporalClsToken: Parameter
    /// `[1, 1 + nT, D]`.
    public var temporalPositions: Parameter
    public var temporal: TransformerEncoder
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// Loads every part from `source` (a checkpoint, or ``FactorisedInitialiser`` for the
    /// ViT-initialised model).
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViViTFactorisedConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        try ConfigurationCheck.atLeast(0, c.temporalLayers, "num_temporal_layers")
        try ConfigurationCheck.atLeast(1, c.numberOfChannels, "num_channels")
        // The tubelet divides the clip, so it is checked before the grid is computed.
        guard c.tubeletSize.count == 3, c.tubeletSize.allSatisfy({ $0 > 0 }), c.grid.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidConfiguration(path: "config.json",
                                                  reason: "tubelet_size \(c.tubeletSize) for \(c.numberOfFrames)×\(c.imageSize)²")
        }
        let (nt, nh, nw) = (c.grid[0], c.grid[1], c.grid[2])
        let spatialTokens = try ConfigurationCheck.tokens(prefix: 1, grid: [nh, nw], fields: "image_size \(c.imageSize) and tubelet_size \(c.tubeletSize)")
        let temporalTokens = try ConfigurationCheck.tokens(prefix: 1, grid: [nt], fields: "num_frames \(c.numberOfFrames) and tubelet_size \(c.tubeletSize)")
        let n = try c.common.labelCount(head: "classifier.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "the factorised encoder needs id2label")
        }
        (spatialClsToken, spatialPositions, tubeletEmbedding, spatial) = try ModelError.funnel {
            (try source.parameter("spatial.embeddings.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("spatial.embeddings.position_embeddings", shape: [1, spatialTokens, d], role: .embedding),
             try PatchEmbedding.load(source, "spatial.embeddings.patch_embeddings.projection",
                                     shape: [d, c.numberOfChannels] + c.tubeletSize),
             try TransformerEncoder.load(source, root: "spatial.", shape: c.common.encoderShape))
        }
        (temporalClsToken, temporalPositions, temporal, classifier) = try ModelError.funnel {
            (try source.parameter("temporal.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("temporal.position_embeddings", shape: [1, temporalTokens, d], role: .embedding),
             try TransformerEncoder.load(source, root: "temporal.", shape: c.temporalShape, layersField: "num_temporal_layers"),
             try Linear.load(source, "classifier", input: d, output: n, prefixed: false))
        }
    }

    public var architecture: String { "ViViTFactorisedEncoder" }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] {
        [configuration.numberOfFrames, configuration.numberOfChannels, configuration.imageSize, configuration.imageSize]
    }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }

    /// The spatial encoder, then the temporal one.
    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&spatial)
        try body(&temporal)
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&spatialClsToken)
        try body(&spatialPositions)
        try tubeletEmbedding.visitParameters(body)
        try spatial.visitParameters(body)
        try body(&temporalClsToken)
        try body(&temporalPositions)
        try temporal.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// The spatial stream: CLS token per time index after the spatial final norm, `[B, nT, D]`.
    public func spatialFeatures<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> C.Value {
        let (b, d) = (c.tensor(pixels).shape[0], configuration.common.hiddenSize)
        let nt = configuration.grid[0], perFrame = configuration.grid[1] * configuration.grid[2]
        // Token order is t-major, so [B, nT·nHW, D] is already [B·nT, nHW, D].
        let patches = c.reshape(tubeletEmbedding(pixels, &c), [b * nt, perFrame, d])
        let hidden = spatial(embed(prefix: [spatialClsToken], patches: patches, positions: c.parameter(spatialPositions), &c), &c)
        return c.reshape(c.token(0, of: hidden), [b, nt, d])
    }

    /// Temporal transformer and head on spatial CLS features `[B, nT, D]`.
    public func temporalForward<C: ConvolutionContext>(_ features: C.Value, in c: inout C) -> ModelValues<C.Value> {
        let hidden = temporal(embed(prefix: [temporalClsToken], patches: features,
                                    positions: c.parameter(temporalPositions), &c), &c)
        return ModelValues(logits: classifier(c.token(0, of: hidden), &c), lastHiddenState: hidden)
    }

    /// `head` (the temporal CLS after the temporal norm, `[D]`), then `spatial` (the spatial
    /// stream, `[nT, D]`: everything from the temporal transformer on trains).
    public var cuts: [ForwardCut] {
        let d = configuration.common.hiddenSize
        return [ForwardCut(name: "head", featureShape: [d], suffixRoots: ["classifier."]),
                ForwardCut(name: "spatial", featureShape: [configuration.grid[0], d], suffixRoots: ["temporal.", "classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        let spatial = spatialFeatures(input, in: &c)
        if cut.name == "spatial" { return spatial }
        precondition(cut.name == "head")
        return c.token(0, of: temporalForward(spatial, in: &c).lastHiddenState)
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        if cut.name == "spatial" { return temporalForward(features, in: &c) }
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(features, &c), lastHiddenState: features)
    }

    /// `lastHiddenState` is the temporal transformer's output `[B, 1 + nT, D]`.
    public func forward<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> ModelValues<C.Value> {
        temporalForward(spatialFeatures(pixels, in: &c), in: &c)
    }

    /// The spatial stream alone, eagerly. With a frozen spatial transformer these can be computed
    /// once and cached.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)``.
    public func spatialFeatures(_ pixels: Tensor) throws -> Tensor {
        try checkInput(pixels)
        var e = Eager()
        return spatialFeatures(pixels, in: &e)
    }

    /// Temporal transformer and head on spatial CLS features `[B, nT, D]`, eagerly.
    public func temporalForward(_ features: Tensor) -> ModelOutput {
        Self.eagerly { temporalForward(features, in: &$0) }
    }
}
