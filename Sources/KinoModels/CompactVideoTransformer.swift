// A factorised video encoder whose spatial stream is a compact convolutional transformer: every
// tubelet of `tubelet_frames` frames (their channels stacked, so the first convolution is a 3-D
// one of temporal extent and stride kt) goes through a CompactStream and is pooled to one
// vector; a temporal transformer with a class token reads those vectors (ViViT's factorised
// encoder, Arnab et al. 2021, with CCT's tokenizer and pooling in space). Kino's own model type.
import Foundation
import KinoTensor

/// `config.json` of `model_type: "kino-cct-video"`. `num_hidden_layers` counts spatial blocks,
/// `num_temporal_layers` temporal ones; both share width, heads, MLP size, activation and eps.
/// `feature_adapter_size` > 0 puts a bottleneck adapter of that width between the two encoders.
public struct CompactVideoConfiguration: Codable, Sendable, Equatable {
    public static let modelType = "kino-cct-video"
    public var common: CommonConfiguration
    public var temporalLayers: Int
    public var imageSize: Int
    public var numberOfFrames: Int
    public var numberOfChannels: Int
    public var tubeletFrames: Int
    public var tokenizerChannels: [Int]
    public var tokenizerKernel: Int
    public var tokenizerStride: Int
    /// Width of the bottleneck adapter on the tubelet vectors; 0 for none.
    public var featureAdapterSize: Int

    enum CodingKeys: String, CodingKey {
        case temporalLayers = "num_temporal_layers"
        case imageSize = "image_size"
        case numberOfFrames = "num_frames"
        case numberOfChannels = "num_channels"
        case tubeletFrames = "tubelet_frames"
        case tokenizerChannels = "tokenizer_channels"
        case tokenizerKernel = "tokenizer_kernel"
        case tokenizerStride = "tokenizer_stride"
        case featureAdapterSize = "feature_adapter_size"
    }

    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temporalLayers = try c.decode(Int.self, forKey: .temporalLayers)
        imageSize = try c.decode(Int.self, forKey: .imageSize)
        numberOfFrames = try c.decode(Int.self, forKey: .numberOfFrames)
        numberOfChannels = try c.decodeIfPresent(Int.self, forKey: .numberOfChannels) ?? 3
        tubeletFrames = try c.decodeIfPresent(Int.self, forKey: .tubeletFrames) ?? 2
        tokenizerChannels = try c.decode([Int].self, forKey: .tokenizerChannels)
        tokenizerKernel = try c.decodeIfPresent(Int.self, forKey: .tokenizerKernel) ?? 3
        tokenizerStride = try c.decodeIfPresent(Int.self, forKey: .tokenizerStride) ?? 2
        featureAdapterSize = try c.decodeIfPresent(Int.self, forKey: .featureAdapterSize) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(temporalLayers, forKey: .temporalLayers)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(numberOfFrames, forKey: .numberOfFrames)
        try c.encode(numberOfChannels, forKey: .numberOfChannels)
        try c.encode(tubeletFrames, forKey: .tubeletFrames)
        try c.encode(tokenizerChannels, forKey: .tokenizerChannels)
        try c.encode(tokenizerKernel, forKey: .tokenizerKernel)
        try c.encode(tokenizerStride, forKey: .tokenizerStride)
        if featureAdapterSize > 0 { try c.encode(featureAdapterSize, forKey: .featureAdapterSize) }
    }

    /// Tubelets along time.
    public var timeSteps: Int { numberOfFrames / tubeletFrames }
}

/// The compact factorised encoder on clips `[B, T, C, H, W]` (pixel values, as ViViT takes them).
///
/// Keys: `spatial.` + the ``CompactStream`` keys, `temporal.{cls_token, position_embeddings}`,
/// `temporal.adapter.{layernorm, down, up}.*` (with `feature_adapter_size`),
/// `temporal.encoder.layer.{i}.*`, `temporal.layernorm.*`, `classifier.*`.
public struct CompactVideoTransformer: KinoModel {
    public internal(set) var configuration: CompactVideoConfiguration
    public var spatial: CompactStream
    public var temporalClsToken: Parameter
    /// `[1, 1 + nT, D]`.
    public var temporalPositions: Parameter
    /// Between the encoders, on every tubelet vector (``FeatureAdapter``); part of the temporal
    /// side, so it trains on cached spatial features.
    public var featureAdapter: FeatureAdapter?
    public var temporal: TransformerEncoder
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key or bad field.
    public init(configuration: CompactVideoConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        try ConfigurationCheck.atLeast(1, c.imageSize, "image_size")
        try ConfigurationCheck.atLeast(1, c.numberOfChannels, "num_channels")
        try ConfigurationCheck.atLeast(1, c.tubeletFrames, "tubelet_frames")
        try ConfigurationCheck.atLeast(0, c.temporalLayers, "num_temporal_layers")
        try ConfigurationCheck.atLeast(0, c.featureAdapterSize, "feature_adapter_size")
        guard c.numberOfFrames >= c.tubeletFrames, c.numberOfFrames % c.tubeletFrames == 0 else {
            throw ModelError.invalidConfiguration(path: "config.json",
                                                  reason: "num_frames \(c.numberOfFrames) is not a multiple of tubelet_frames \(c.tubeletFrames)")
        }
        let n = try c.common.labelCount(head: "classifier.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "CompactVideoTransformer needs id2label")
        }
        spatial = try CompactStream.load(source, root: "spatial.", inputChannels: c.tubeletFrames * c.numberOfChannels,
                                         channels: c.tokenizerChannels, kernel: c.tokenizerKernel, stride: c.tokenizerStride,
                                         extent: [c.imageSize, c.imageSize], shape: c.common.encoderShape)
        var temporalShape = c.common.encoderShape
        temporalShape.layers = c.temporalLayers
        (temporalClsToken, temporalPositions, temporal, classifier) = try ModelError.funnel {
            (try source.parameter("temporal.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("temporal.position_embeddings", shape: [1, 1 + c.timeSteps, d], role: .embedding),
             try TransformerEncoder.load(source, root: "temporal.", shape: temporalShape, layersField: "num_temporal_layers"),
             try Linear.load(source, "classifier", input: d, output: n, prefixed: false))
        }
        if c.featureAdapterSize > 0 {
            featureAdapter = try ModelError.funnel {
                try FeatureAdapter.load(source, key: "temporal.adapter", width: d, size: c.featureAdapterSize, eps: c.common.layerNormEps)
            }
        }
    }

    public var architecture: String { "CompactVideoTransformer" }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] {
        [configuration.numberOfFrames, configuration.numberOfChannels, configuration.imageSize, configuration.imageSize]
    }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }

    /// The spatial stream's encoder, then the temporal one.
    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&spatial.encoder)
        try body(&temporal)
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try spatial.visitParameters(body)
        try body(&temporalClsToken)
        try body(&temporalPositions)
        try featureAdapter?.visitParameters(body)
        try temporal.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// One pooled vector per tubelet, `[B, nT, D]`.
    public func spatialFeatures<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> C.Value {
        let cfg = configuration
        let b = c.tensor(pixels).shape[0]
        let nt = cfg.timeSteps
        // [B, T, C, H, W] is [B·nT, kt·C, H, W] in memory: a tubelet's frames become channels.
        let tubelets = c.reshape(pixels, [b * nt, cfg.tubeletFrames * cfg.numberOfChannels, cfg.imageSize, cfg.imageSize])
        return c.reshape(spatial(tubelets, &c).pooled, [b, nt, cfg.common.hiddenSize])
    }

    /// The feature adapter, the temporal transformer and head on `[B, nT, D]`; `lastHiddenState`
    /// `[B, 1 + nT, D]`.
    public func temporalForward<C: ConvolutionContext>(_ features: C.Value, in c: inout C) -> ModelValues<C.Value> {
        let adapted = featureAdapter.map { $0(features, &c) } ?? features
        let hidden = temporal(embed(prefix: [temporalClsToken], patches: adapted, positions: c.parameter(temporalPositions), &c), &c)
        let pooled = c.token(0, of: hidden)
        return ModelValues(logits: classifier(pooled, &c), lastHiddenState: hidden, pooled: pooled)
    }

    public func forward<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> ModelValues<C.Value> {
        temporalForward(spatialFeatures(pixels, in: &c), in: &c)
    }

    /// `head` (the temporal CLS, `[D]`), then `spatial` (the tubelet vectors, `[nT, D]`).
    public var cuts: [ForwardCut] {
        let d = configuration.common.hiddenSize
        return [ForwardCut(name: "head", featureShape: [d], suffixRoots: ["classifier."]),
                ForwardCut(name: "spatial", featureShape: [configuration.timeSteps, d], suffixRoots: ["temporal.", "classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        let s = spatialFeatures(input, in: &c)
        if cut.name == "spatial" { return s }
        precondition(cut.name == "head")
        return temporalForward(s, in: &c).pooled!
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        if cut.name == "spatial" { return temporalForward(features, in: &c) }
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(features, &c), lastHiddenState: features, pooled: features)
    }
}

/// The compact adapter between a (frozen) spatial encoder and the temporal transformer:
/// `z + W_up·GELU(W_down·LN(z) + b_down) + b_up` on each tubelet vector, after the placeholder
/// design in `shared/specs/models.md` §6 for Gowda et al. 2023 (whose own adapter could not be
/// retrieved). `W_up` and `b_up` start at zero, so a new adapter is the identity.
public struct FeatureAdapter: ParameterContainer, Sendable {
    public var norm: LayerNorm
    public var bottleneck: Bottleneck

    /// `key.layernorm.*`, `key.down.*` (`[size, width]`), `key.up.*` (`[width, size]`, zero when initialised).
    public static func load(_ source: any WeightSource, key: String, width: Int, size: Int, eps: Float) throws -> FeatureAdapter {
        let down = try Linear.load(source, key + ".down", input: width, output: size, prefixed: false)
        let up = Linear(weight: try source.parameter(key + ".up.weight", shape: [width, size], prefixed: false, role: .zeroMatrix),
                        bias: try source.parameter(key + ".up.bias", shape: [width], prefixed: false, role: .bias))
        return FeatureAdapter(norm: try LayerNorm.load(source, key + ".layernorm", size: width, eps: eps, prefixed: false),
                              bottleneck: Bottleneck(down: down, up: up))
    }

    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        c.add(x, bottleneck(norm(x, &c), &c))
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try norm.visitParameters(body)
        try bottleneck.visitParameters(body)
    }
}
