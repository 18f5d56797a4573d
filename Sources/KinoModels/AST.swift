// AST (Gong et al., "AST: Audio Spectrogram Transformer"), as Hugging Face's
// ASTForAudioClassification computes it (models/audio_spectrogram_transformer/modeling_*.py).
import Foundation
import KinoTensor

/// `config.json` of `model_type: "audio-spectrogram-transformer"`.
public struct ASTConfiguration: Codable, Sendable, Equatable {
    public var common: CommonConfiguration
    public var patchSize: Int
    /// Step between patches along mel bins (image height).
    public var frequencyStride: Int
    /// Step between patches along frames (image width).
    public var timeStride: Int
    /// Frames per input window.
    public var maximumLength: Int
    public var numberOfMelBins: Int

    enum CodingKeys: String, CodingKey {
        case patchSize = "patch_size"
        case frequencyStride = "frequency_stride"
        case timeStride = "time_stride"
        case maximumLength = "max_length"
        case numberOfMelBins = "num_mel_bins"
    }

    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? 16
        frequencyStride = try c.decodeIfPresent(Int.self, forKey: .frequencyStride) ?? 10
        timeStride = try c.decodeIfPresent(Int.self, forKey: .timeStride) ?? 10
        maximumLength = try c.decodeIfPresent(Int.self, forKey: .maximumLength) ?? 1024
        numberOfMelBins = try c.decodeIfPresent(Int.self, forKey: .numberOfMelBins) ?? 128
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(frequencyStride, forKey: .frequencyStride)
        try c.encode(timeStride, forKey: .timeStride)
        try c.encode(maximumLength, forKey: .maximumLength)
        try c.encode(numberOfMelBins, forKey: .numberOfMelBins)
    }

    /// Overlapping patches along frequency and time: `(F − p)/fs + 1`, `(T − p)/ts + 1`.
    public var grid: [Int] {
        PatchGeometry(kernel: [patchSize, patchSize], stride: [frequencyStride, timeStride])
            .grid([numberOfMelBins, maximumLength])
    }
}

/// `ASTForAudioClassification`: overlapping spectrogram patches, CLS and distillation tokens,
/// encoder, and a head on their mean (layer norm, then linear). AudioSet heads are multi-label.
public struct ASTForAudioClassification: FbankClassifier {
    public internal(set) var configuration: ASTConfiguration
    public var clsToken: Parameter
    public var distillationToken: Parameter
    /// `[1, 2 + nF·nT, D]`: CLS, distillation, then patches frequency-major.
    public var positionEmbeddings: Parameter
    /// Conv2d `[D, 1, p, p]` with the frequency and time strides.
    public var patchEmbedding: PatchEmbedding
    public var encoder: TransformerEncoder
    /// `classifier.layernorm`.
    public var headNorm: LayerNorm
    /// `classifier.dense`.
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// Loads `audio_spectrogram_transformer.*` (prefix optional) and `classifier.*`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ASTConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        // The strides divide the spectrogram extent, so they are checked before the grid is computed.
        try ConfigurationCheck.atLeast(1, c.frequencyStride, "frequency_stride")
        try ConfigurationCheck.atLeast(1, c.timeStride, "time_stride")
        try ConfigurationCheck.atLeast(1, c.patchSize, "patch_size")
        guard c.grid.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidConfiguration(
                path: "config.json", reason: "patch_size \(c.patchSize) does not fit \(c.numberOfMelBins)×\(c.maximumLength)")
        }
        let tokens = try ConfigurationCheck.tokens(
            prefix: 2, grid: c.grid, fields: "num_mel_bins \(c.numberOfMelBins), max_length \(c.maximumLength) and their strides")
        let n = try c.common.labelCount(head: "classifier.dense.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "ASTForAudioClassification needs id2label")
        }
        (clsToken, distillationToken, positionEmbeddings, patchEmbedding) = try ModelError.funnel {
            (try source.parameter("embeddings.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("embeddings.distillation_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("embeddings.position_embeddings", shape: [1, tokens, d], role: .embedding),
             try PatchEmbedding.load(source, "embeddings.patch_embeddings.projection", shape: [d, 1, c.patchSize, c.patchSize],
                                     stride: [c.frequencyStride, c.timeStride]))
        }
        (encoder, headNorm, classifier) = try ModelError.funnel {
            (try TransformerEncoder.load(source, shape: c.common.encoderShape),
             try LayerNorm.load(source, "classifier.layernorm", size: d, eps: c.common.layerNormEps, prefixed: false),
             try Linear.load(source, "classifier.dense", input: d, output: n, prefixed: false))
        }
    }

    public var architecture: String { "ASTForAudioClassification" }
    public var inputName: String { "input_values" }
    public var sampleShape: [Int] { [configuration.maximumLength, configuration.numberOfMelBins] }
    public var windowFrames: Int { configuration.maximumLength }
    public var melBins: Int { configuration.numberOfMelBins }
    /// Sigmoid (AudioSet is multi-label) unless the config's `problem_type` says single-label.
    public var scoring: LabelScoring { configuration.common.scoring(default: .sigmoid) }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }
    public var checkpointRoot: String { "audio_spectrogram_transformer." }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&encoder)
    }

    /// A new `classifier.dense`; `classifier.layernorm` keeps its weights.
    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier.dense", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&clsToken)
        try body(&distillationToken)
        try body(&positionEmbeddings)
        try patchEmbedding.visitParameters(body)
        try encoder.visitParameters(body)
        try headNorm.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// `input_values` `[B, T, F]` (frames × mel bins, as ASTFeatureExtractor returns).
    public func forward<C: ConvolutionContext>(_ features: C.Value, in c: inout C) -> ModelValues<C.Value> {
        let cfg = configuration
        let b = c.tensor(features).shape[0]
        // [B, T, F] → [B, 1, F, T]: frequency is the image height, time the width.
        let image = c.reshape(c.transposeLastTwo(features), [b, 1, cfg.numberOfMelBins, cfg.maximumLength])
        let patches = patchEmbedding(image, &c)
        let hidden = encoder(embed(prefix: [clsToken, distillationToken], patches: patches,
                                   positions: c.parameter(positionEmbeddings), &c), &c)
        // With prompts the distillation token is gone (PETL_AST): the CLS token alone is pooled.
        let pooled = encoder.prompts != nil ? c.token(0, of: hidden)
            : c.scale(c.add(c.token(0, of: hidden), c.token(1, of: hidden)), by: 0.5)
        return ModelValues(logits: classifier(headNorm(pooled, &c), &c), lastHiddenState: hidden, pooled: pooled)
    }

    /// `head`: the pooled token `[D]`, before `classifier.layernorm`.
    public var cuts: [ForwardCut] {
        [ForwardCut(name: "head", featureShape: [configuration.common.hiddenSize], suffixRoots: ["classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        precondition(cut.name == "head")
        return forward(input, in: &c).pooled!
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(headNorm(features, &c), &c), lastHiddenState: features, pooled: features)
    }
}
