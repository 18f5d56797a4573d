// TimeSformer (Bertasius et al., "Is Space-Time Attention All You Need for Video
// Understanding?"), divided space-time attention, as Hugging Face's
// TimesformerForVideoClassification computes it (transformers models/timesformer/modeling_timesformer.py).
import Foundation
import KinoTensor

/// `config.json` of `model_type: "timesformer"`.
public struct TimeSformerConfiguration: Codable, Sendable, Equatable {
    public var common: CommonConfiguration
    public var imageSize: Int
    public var patchSize: Int
    public var numberOfChannels: Int
    public var numberOfFrames: Int
    /// `attention_type`; only `divided_space_time` (the default and every published checkpoint's)
    /// is supported.
    public var attentionType: String
    /// `drop_path_rate`: stochastic depth while training; Kino's forward does not apply it.
    public var dropPathRate: Float

    public static let supportedAttention = "divided_space_time"

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case numberOfChannels = "num_channels"
        case numberOfFrames = "num_frames"
        case attentionType = "attention_type"
        case dropPathRate = "drop_path_rate"
    }

    /// Decodes with TimesformerConfig's defaults (8 frames, eps 1e-6).
    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? 16
        numberOfChannels = try c.decodeIfPresent(Int.self, forKey: .numberOfChannels) ?? 3
        numberOfFrames = try c.decodeIfPresent(Int.self, forKey: .numberOfFrames) ?? 8
        attentionType = try c.decodeIfPresent(String.self, forKey: .attentionType) ?? Self.supportedAttention
        dropPathRate = try c.decodeIfPresent(Float.self, forKey: .dropPathRate) ?? 0
        // TimesformerConfig's eps default differs from ViT's where the file leaves it out.
        let shared = try decoder.container(keyedBy: CommonConfiguration.CodingKeys.self)
        if !shared.contains(.layerNormEps) { common.layerNormEps = 1e-6 }
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(numberOfChannels, forKey: .numberOfChannels)
        try c.encode(numberOfFrames, forKey: .numberOfFrames)
        try c.encode(attentionType, forKey: .attentionType)
        try c.encode(dropPathRate, forKey: .dropPathRate)
    }

    /// Patches per side of one frame.
    public var gridSize: Int { patchSize > 0 ? imageSize / patchSize : 0 }

    func validate() throws {
        guard attentionType == Self.supportedAttention else {
            throw ModelError.invalidConfiguration(
                path: "config.json",
                reason: "attention_type \"\(attentionType)\" is not supported (only \"\(Self.supportedAttention)\")")
        }
        try common.validate(path: "config.json", allowsUnbiasedProjections: true)
        try ConfigurationCheck.atLeast(1, numberOfChannels, "num_channels")
        try ConfigurationCheck.atLeast(1, numberOfFrames, "num_frames")
        try ConfigurationCheck.atLeast(1, patchSize, "patch_size")
        guard imageSize >= patchSize else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "patch_size \(patchSize) for image_size \(imageSize)")
        }
    }
}

/// Multi-head self-attention with one fused `qkv` projection (`[3D, D]`: query rows, then key,
/// then value) and its output projection: HF `TimeSformerAttention`.
public struct FusedAttention: ParameterContainer, Sendable {
    /// `attention.qkv`, bias present when `qkv_bias`.
    public var qkv: Linear
    /// `output.dense`.
    public var output: Linear
    public var heads: Int

    static func load(_ source: any WeightSource, _ key: String, width d: Int, heads: Int, bias: Bool) throws -> FusedAttention {
        FusedAttention(qkv: try .load(source, key + ".attention.qkv", input: d, output: 3 * d, bias: bias),
                       output: try .load(source, key + ".output.dense", input: d, output: d), heads: heads)
    }

    /// Attention over the tokens of every item of `[B, N, D]`.
    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        let fused = qkv(x, &c)
        let d = c.tensor(fused).shape[2] / 3
        let q = c.slice(fused, axis: 2, 0 ..< d), k = c.slice(fused, axis: 2, d ..< 2 * d)
        let v = c.slice(fused, axis: 2, 2 * d ..< 3 * d)
        return output(c.attention(query: q, key: k, value: v, heads: heads), &c)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try qkv.visitParameters(body)
        try output.visitParameters(body)
    }
}

/// One divided space-time block (HF `TimesformerLayer` with `divided_space_time`).
///
/// Patch tokens are ordered patch-major, frame-minor (`p·T + t`) after the CLS token:
/// 1. temporal: each patch position attends over its `T` frames (`temporal_layernorm`,
///    `temporal_attention`), then `temporal_dense`, added to the patch tokens;
/// 2. spatial: each frame's patches, with a copy of the CLS token in front, attend to one another
///    (`layernorm_before`, `attention`); the `T` CLS outputs are averaged into one update;
/// 3. both residuals are added and the MLP follows (`layernorm_after`, `intermediate`, `output`).
public struct TimeSformerLayer: ParameterContainer, Sendable {
    public var temporalNorm: LayerNorm
    public var temporalAttention: FusedAttention
    public var temporalDense: Linear
    public var layerNormBefore: LayerNorm
    public var attention: FusedAttention
    public var layerNormAfter: LayerNorm
    public var intermediate: Linear
    public var output: Linear
    public var activation: Activation

    static func load(_ source: any WeightSource, index: Int, shape s: EncoderShape, bias: Bool) throws -> TimeSformerLayer {
        let p = "encoder.layer.\(index).", d = s.hiddenSize
        return TimeSformerLayer(
            temporalNorm: try .load(source, p + "temporal_layernorm", size: d, eps: s.layerNormEps),
            temporalAttention: try .load(source, p + "temporal_attention", width: d, heads: s.heads, bias: bias),
            temporalDense: try .load(source, p + "temporal_dense", input: d, output: d),
            layerNormBefore: try .load(source, p + "layernorm_before", size: d, eps: s.layerNormEps),
            attention: try .load(source, p + "attention", width: d, heads: s.heads, bias: bias),
            layerNormAfter: try .load(source, p + "layernorm_after", size: d, eps: s.layerNormEps),
            intermediate: try .load(source, p + "intermediate.dense", input: d, output: s.intermediateSize),
            output: try .load(source, p + "output.dense", input: s.intermediateSize, output: d),
            activation: s.activation)
    }

    /// The block on `[B, 1 + P·T, D]` (CLS, then patch-major tokens) for `frames` = T.
    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, frames t: Int, _ c: inout C) -> C.Value {
        let shape = c.tensor(x).shape
        let (b, d) = (shape[0], shape[2]), p = (shape[1] - 1) / t
        let cls = c.slice(x, axis: 1, 0 ..< 1)
        let patches = c.slice(x, axis: 1, 1 ..< 1 + p * t)
        // Temporal attention: [B·P, T, D] sequences, one per patch position.
        let temporal = temporalAttention(temporalNorm(c.reshape(patches, [b * p, t, d]), &c), &c)
        let mixed = c.add(patches, temporalDense(c.reshape(temporal, [b, p * t, d]), &c))
        // Spatial attention: [B·T, 1 + P, D], the CLS token copied in front of every frame.
        let frames = c.reshape(swapMiddleAxes(c.reshape(mixed, [b, p, t, d]), &c), [b * t, p, d])
        let clsCopies = c.reshape(c.concatenate(Array(repeating: cls, count: t), axis: 1), [b * t, 1, d])
        let spatial = attention(layerNormBefore(c.concatenate([clsCopies, frames], axis: 1), &c), &c)
        // The CLS update is the mean of its T per-frame outputs.
        let clsUpdate = c.reshape(c.mean(c.reshape(c.token(0, of: spatial), [b, t, d]), axis: 1), [b, 1, d])
        let patchUpdate = c.reshape(
            swapMiddleAxes(c.reshape(c.slice(spatial, axis: 1, 1 ..< 1 + p), [b, t, p, d]), &c), [b, p * t, d])
        let h = c.add(c.concatenate([cls, mixed], axis: 1), c.concatenate([clsUpdate, patchUpdate], axis: 1))
        return c.add(h, output(c.activation(intermediate(layerNormAfter(h, &c), &c), activation), &c))
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try temporalNorm.visitParameters(body)
        try temporalAttention.visitParameters(body)
        try temporalDense.visitParameters(body)
        try layerNormBefore.visitParameters(body)
        try attention.visitParameters(body)
        try layerNormAfter.visitParameters(body)
        try intermediate.visitParameters(body)
        try output.visitParameters(body)
    }
}

/// `[B, X, Y, D]` → `[B, Y, X, D]` from the context's last-two-axes transpose (twice), so the
/// permutation has a gradient on every context.
func swapMiddleAxes<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
    let s = c.tensor(x).shape
    let (b, rows, cols, d) = (s[0], s[1], s[2], s[3])
    // [B, X, Y·D] → [B, Y·D, X] = [B·Y, D, X] → [B·Y, X, D].
    let once = c.transposeLastTwo(c.reshape(x, [b, rows, cols * d]))
    return c.reshape(c.transposeLastTwo(c.reshape(once, [b * cols, d, rows])), [b, cols, rows, d])
}

/// `TimesformerForVideoClassification`: per-frame patch embedding, CLS token, spatial position
/// and temporal embeddings, divided space-time blocks, final norm, linear head on the CLS token.
///
/// Keys: `timesformer.embeddings.{cls_token, position_embeddings, time_embeddings,
/// patch_embeddings.projection.*}`, `timesformer.encoder.layer.{i}.*`, `timesformer.layernorm.*`,
/// `classifier.*`.
public struct TimesformerForVideoClassification: VideoMAEProcessedClassifier {
    public internal(set) var configuration: TimeSformerConfiguration
    public var clsToken: Parameter
    /// `[1, 1 + nH·nW, D]`: the CLS row, then one row per patch position (shared by all frames).
    public var positionEmbeddings: Parameter
    /// `[1, T, D]`, one row per frame (shared by all patch positions).
    public var timeEmbeddings: Parameter
    /// Conv2d `[D, C, p, p]`, applied to every frame.
    public var patchEmbedding: PatchEmbedding
    public var layers: [TimeSformerLayer]
    /// `timesformer.layernorm`.
    public var finalNorm: LayerNorm
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// Loads `timesformer.*` (prefix optional) and `classifier.*` from `source`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key, or the config field at
    ///   fault (`attention_type` other than `divided_space_time` among them).
    public init(configuration: TimeSformerConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.validate()
        let tokens = try ConfigurationCheck.tokens(
            prefix: 1, grid: [c.gridSize, c.gridSize], fields: "image_size \(c.imageSize) and patch_size \(c.patchSize)")
        let n = try c.common.labelCount(head: "classifier.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "TimesformerForVideoClassification needs id2label")
        }
        (clsToken, positionEmbeddings, timeEmbeddings, patchEmbedding) = try ModelError.funnel {
            (try source.parameter("embeddings.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("embeddings.position_embeddings", shape: [1, tokens, d], role: .embedding),
             try source.parameter("embeddings.time_embeddings", shape: [1, c.numberOfFrames, d], role: .embedding),
             try PatchEmbedding.load(source, "embeddings.patch_embeddings.projection",
                                     shape: [d, c.numberOfChannels, c.patchSize, c.patchSize]))
        }
        var layers: [TimeSformerLayer] = []
        for index in 0..<max(0, c.common.numberOfLayers) {
            // Each block only once the checkpoint is seen to hold it (see TransformerEncoder.load).
            let first = "encoder.layer.\(index).layernorm_before.weight"
            if source.availability(of: first, prefixed: true) == .missing {
                throw ConfigurationCheck.invalid(
                    "num_hidden_layers is \(c.common.numberOfLayers) but the checkpoint has \(index) encoder layers (no \(first))")
            }
            layers.append(try ModelError.funnel {
                try TimeSformerLayer.load(source, index: index, shape: c.common.encoderShape, bias: c.common.qkvBias)
            })
        }
        self.layers = layers
        (finalNorm, classifier) = try ModelError.funnel {
            (try LayerNorm.load(source, "layernorm", size: d, eps: c.common.layerNormEps),
             try Linear.load(source, "classifier", input: d, output: n, prefixed: false))
        }
    }

    public var architecture: String { "TimesformerForVideoClassification" }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] {
        [configuration.numberOfFrames, configuration.numberOfChannels, configuration.imageSize, configuration.imageSize]
    }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }
    public var checkpointRoot: String { "timesformer." }

    /// `num_frames` consecutive frames (stride 1), as transformers' video-classification pipeline
    /// samples them (`frame_sampling_rate` 1, pipelines/video_classification.py in 4.46.3) and as
    /// the TimesformerForVideoClassification docstring example does (`frame_sample_rate=1`; the
    /// TimesformerModel example uses 4).
    ///
    /// The Kinetics checkpoints were trained on 8 frames 32 apart (facebookresearch/TimeSformer's
    /// `TimeSformer_divST_8x32_224_K400`; the paper: clips of 8 frames "sampled at a rate of
    /// 1/32"). Pass that stride to match the recipe on full-rate video.
    public var frameSampling: FrameSampling { FrameSampling(frames: configuration.numberOfFrames, stride: 1) }

    /// None: the blocks are not ``EncoderLayer``s, so adapters other than full fine-tuning are refused.
    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {}

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&clsToken)
        try body(&positionEmbeddings)
        try body(&timeEmbeddings)
        try patchEmbedding.visitParameters(body)
        try layers.visitParameters(body)
        try finalNorm.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// The embedded tokens `[B, 1 + P·T, D]`: CLS + its position row, then each patch + its
    /// position row + its frame's time row, patch-major.
    func embed<C: ConvolutionContext>(_ pixels: C.Value, _ c: inout C) -> C.Value {
        let s = c.tensor(pixels).shape
        let (b, t, d) = (s[0], s[1], configuration.common.hiddenSize)
        let frames = patchEmbedding(c.reshape(pixels, [b * t, s[2], s[3], s[4]]), &c)
        let p = c.tensor(frames).shape[1]
        let positions = c.parameter(positionEmbeddings)
        let placed = c.add(frames, c.slice(positions, axis: 1, 1 ..< 1 + p))
        let timed = c.add(swapMiddleAxes(c.reshape(placed, [b, t, p, d]), &c), c.parameter(timeEmbeddings))
        // The CLS token repeated over the batch: 0 + t is exact, and its gradient sums over the batch.
        let cls = c.add(c.add(c.constant(Tensor(zeros: [b, 1, d])), c.parameter(clsToken)),
                        c.slice(positions, axis: 1, 0 ..< 1))
        return c.concatenate([cls, c.reshape(timed, [b, p * t, d])], axis: 1)
    }

    /// `pixel_values` `[B, T, C, H, W]` at exactly the configured frame count and size (each block
    /// splits the tokens by the configured `num_frames`, as HF's does). `lastHiddenState` is
    /// `[B, 1 + P·T, D]` after the final norm.
    public func forward<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> ModelValues<C.Value> {
        var hidden = embed(pixels, &c)
        for layer in layers { hidden = layer(hidden, frames: configuration.numberOfFrames, &c) }
        hidden = finalNorm(hidden, &c)
        let cls = c.token(0, of: hidden)
        return ModelValues(logits: classifier(cls, &c), lastHiddenState: hidden, pooled: cls)
    }

    /// `head`: the CLS token after the final norm, `[D]`.
    public var cuts: [ForwardCut] {
        [ForwardCut(name: "head", featureShape: [configuration.common.hiddenSize], suffixRoots: ["classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        precondition(cut.name == "head")
        return forward(input, in: &c).pooled!
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(features, &c), lastHiddenState: features, pooled: features)
    }
}
