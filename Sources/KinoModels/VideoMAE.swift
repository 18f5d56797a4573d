// VideoMAE (Tong et al., "VideoMAE: Masked Autoencoders are Data-Efficient Learners for
// Self-Supervised Video Pre-Training"), the fine-tuned classifier as Hugging Face's
// VideoMAEForVideoClassification computes it (transformers models/videomae/modeling_videomae.py).
import Foundation
import KinoTensor

/// `config.json` of `model_type: "videomae"`.
public struct VideoMAEConfiguration: Codable, Sendable, Equatable {
    public var common: CommonConfiguration
    public var imageSize: Int
    public var patchSize: Int
    public var numberOfChannels: Int
    public var numberOfFrames: Int
    /// Frames per tubelet.
    public var tubeletSize: Int
    /// `use_mean_pooling`: the head reads `fc_norm` of the token mean (and the encoder has no
    /// final norm); otherwise the first token after `videomae.layernorm`.
    public var usesMeanPooling: Bool

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case numberOfChannels = "num_channels"
        case numberOfFrames = "num_frames"
        case tubeletSize = "tubelet_size"
        case usesMeanPooling = "use_mean_pooling"
    }

    /// Decodes with VideoMAEConfig's defaults (16 frames, tubelet 2, mean pooling, eps 1e-12).
    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? 16
        numberOfChannels = try c.decodeIfPresent(Int.self, forKey: .numberOfChannels) ?? 3
        numberOfFrames = try c.decodeIfPresent(Int.self, forKey: .numberOfFrames) ?? 16
        tubeletSize = try c.decodeIfPresent(Int.self, forKey: .tubeletSize) ?? 2
        usesMeanPooling = try c.decodeIfPresent(Bool.self, forKey: .usesMeanPooling) ?? true
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(numberOfChannels, forKey: .numberOfChannels)
        try c.encode(numberOfFrames, forKey: .numberOfFrames)
        try c.encode(tubeletSize, forKey: .tubeletSize)
        try c.encode(usesMeanPooling, forKey: .usesMeanPooling)
    }

    /// Tubelets along time, height and width (VALID: a remainder is dropped, as Conv3d does).
    public var grid: [Int] {
        PatchGeometry(kernel: [tubeletSize, patchSize, patchSize]).grid([numberOfFrames, imageSize, imageSize])
    }

    func validate() throws {
        // q_bias and v_bias are optional here: qkv_bias false leaves the projections bias-free.
        try common.validate(path: "config.json", allowsUnbiasedProjections: true)
        try ConfigurationCheck.atLeast(1, numberOfChannels, "num_channels")
        try ConfigurationCheck.atLeast(1, patchSize, "patch_size")
        try ConfigurationCheck.atLeast(1, tubeletSize, "tubelet_size")
        guard grid.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidConfiguration(
                path: "config.json",
                reason: "patch_size \(patchSize) and tubelet_size \(tubeletSize) do not fit \(numberOfFrames) frames of \(imageSize)²")
        }
    }
}

/// `VideoMAEForVideoClassification`: tubelet embedding plus a fixed sinusoid position table, a
/// ViT encoder whose query and value projections carry separate biases (`q_bias`, `v_bias`; the
/// key has none), and a linear head on the pooled tokens. There is no CLS token.
///
/// Keys: `videomae.embeddings.patch_embeddings.projection.*`, `videomae.encoder.layer.{i}.*`
/// (`attention.attention.{query,key,value}.weight`, `attention.attention.{q,v}_bias`),
/// `videomae.layernorm.*` without mean pooling, `fc_norm.*` with it, `classifier.*`.
public struct VideoMAEForVideoClassification: VideoMAEProcessedClassifier {
    public internal(set) var configuration: VideoMAEConfiguration
    /// Conv3d `[D, C, tubelet, p, p]`.
    public var tubeletEmbedding: PatchEmbedding
    /// `[1, nT·nH·nW, D]`, ``sinusoidTable(positions:width:)``: a constant, not a parameter.
    public let positionEmbeddings: Tensor
    /// Blocks, and `videomae.layernorm` as the final norm when the model does not mean-pool.
    public var encoder: TransformerEncoder
    /// `fc_norm` on the token mean, with PyTorch's default eps 1e-5 (the module is built without
    /// `layer_norm_eps`); nil without mean pooling.
    public var poolNorm: LayerNorm?
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// Loads `videomae.*` (prefix optional), `fc_norm.*` and `classifier.*` from `source`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key, or the config field at fault.
    public init(configuration: VideoMAEConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.validate()
        let tokens = try ConfigurationCheck.tokens(
            prefix: 0, grid: c.grid,
            fields: "image_size \(c.imageSize), patch_size \(c.patchSize), num_frames \(c.numberOfFrames) and tubelet_size \(c.tubeletSize)")
        let n = try c.common.labelCount(head: "classifier.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "VideoMAEForVideoClassification needs id2label")
        }
        let biased = c.common.qkvBias
        (tubeletEmbedding, encoder, poolNorm, classifier) = try ModelError.funnel {
            (try PatchEmbedding.load(source, "embeddings.patch_embeddings.projection",
                                     shape: [d, c.numberOfChannels, c.tubeletSize, c.patchSize, c.patchSize]),
             try TransformerEncoder.load(source, normKey: c.usesMeanPooling ? nil : "layernorm", shape: c.common.encoderShape) {
                 try Self.layer($0, root: $1, index: $2, shape: $3, biased: biased)
             },
             c.usesMeanPooling ? try LayerNorm.load(source, "fc_norm", size: d, eps: 1e-5, prefixed: false) : nil,
             try Linear.load(source, "classifier", input: d, output: n, prefixed: false))
        }
        positionEmbeddings = Self.sinusoidTable(positions: tokens, width: d)
    }

    /// One block: ViT's, but `query`, `key` and `value` are bias-free `Linear`s in the checkpoint
    /// and the query and value biases are the parameters `q_bias` and `v_bias` (when `qkv_bias`).
    static func layer(_ source: any WeightSource, root: String, index: Int, shape s: EncoderShape,
                      biased: Bool) throws -> EncoderLayer {
        let p = "\(root)encoder.layer.\(index).", a = p + "attention.attention.", d = s.hiddenSize
        func projection(_ name: String, bias: String?) throws -> Linear {
            Linear(weight: try source.parameter(a + name + ".weight", shape: [d, d], role: .matrix),
                   bias: try bias.map { try source.parameter(a + $0, shape: [d], role: .bias) })
        }
        return EncoderLayer(
            layerNormBefore: try .load(source, p + "layernorm_before", size: d, eps: s.layerNormEps),
            query: try projection("query", bias: biased ? "q_bias" : nil),
            key: try projection("key", bias: nil),
            value: try projection("value", bias: biased ? "v_bias" : nil),
            attentionOutput: try .load(source, p + "attention.output.dense", input: d, output: d),
            layerNormAfter: try .load(source, p + "layernorm_after", size: d, eps: s.layerNormEps),
            intermediate: try .load(source, p + "intermediate.dense", input: d, output: s.intermediateSize),
            output: try .load(source, p + "output.dense", input: s.intermediateSize, output: d),
            heads: s.heads, activation: s.activation)
    }

    /// The fixed position table of transformers' `get_sinusoid_encoding_table`, `[1, n, D]`:
    /// row `pos`, column `j` is `sin` (even `j`) or `cos` (odd `j`) of `pos / 10000^(2⌊j/2⌋/D)`,
    /// computed in double precision as NumPy does, then rounded to float.
    public static func sinusoidTable(positions n: Int, width d: Int) -> Tensor {
        var table = Tensor(zeros: [1, n, d])
        let frequencies = (0..<d).map { j in pow(10000, Double(2 * (j / 2)) / Double(d)) }
        for pos in 0..<n {
            for j in 0..<d {
                let angle = Double(pos) / frequencies[j]
                table.storage[pos * d + j] = Float(j % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
        return table
    }

    public var architecture: String { "VideoMAEForVideoClassification" }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] {
        [configuration.numberOfFrames, configuration.numberOfChannels, configuration.imageSize, configuration.imageSize]
    }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }
    public var checkpointRoot: String { "videomae." }

    /// `num_frames` consecutive frames (stride 1), as transformers' video-classification pipeline
    /// samples them (`frame_sampling_rate` 1, pipelines/video_classification.py in 4.46.3), and as
    /// the VideoMAEForVideoClassification docstring example does (`frame_sample_rate=1`).
    ///
    /// The Kinetics-400 checkpoints were fine-tuned and evaluated on 16 frames 4 apart
    /// (MCG-NJU/VideoMAE scripts/kinetics/*/finetune.sh: `--num_frames 16 --sampling_rate 4`,
    /// the "16x4" in its run names); the Something-Something V2 ones on TSN-style uniform segment
    /// sampling (VideoMAE MODEL_ZOO.md). Pass a stride of 4 to match the Kinetics recipe.
    public var frameSampling: FrameSampling { FrameSampling(frames: configuration.numberOfFrames, stride: 1) }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&encoder)
    }

    /// A new `classifier`; `fc_norm` keeps its weights.
    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try tubeletEmbedding.visitParameters(body)
        try encoder.visitParameters(body)
        try poolNorm.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// `pixel_values` `[B, T, C, H, W]` at exactly the configured frame count and size.
    /// `lastHiddenState` is HF's (`videomae.layernorm` applied only without mean pooling),
    /// `pooled` the vector the classifier reads.
    public func forward<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> ModelValues<C.Value> {
        let patches = tubeletEmbedding(pixels, &c)
        let hidden = encoder(c.add(patches, c.constant(positionEmbeddings)), &c)
        let pooled = pool(hidden, &c)
        return ModelValues(logits: classifier(pooled, &c), lastHiddenState: hidden, pooled: pooled)
    }

    /// `fc_norm` of the token mean, or (without mean pooling) the first token: VideoMAE has no CLS
    /// token, so that is the first tubelet's.
    func pool<C: ConvolutionContext>(_ hidden: C.Value, _ c: inout C) -> C.Value {
        guard let poolNorm else { return c.token(0, of: hidden) }
        return poolNorm(c.mean(hidden, axis: 1), &c)
    }

    /// `head`: the pooled vector the classifier reads, `[D]`.
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
