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
public struct ASTForAudioClassification: KinoModel {
    public let configuration: ASTConfiguration
    public var clsToken: Tensor
    public var distillationToken: Tensor
    /// `[1, 2 + nF·nT, D]`: CLS, distillation, then patches frequency-major.
    public var positionEmbeddings: Tensor
    /// Conv2d weight `[D, 1, p, p]`.
    public var patchWeight: Tensor
    public var patchBias: Tensor
    public var encoder: TransformerEncoder
    /// `classifier.layernorm`.
    public var headNorm: LayerNorm
    /// `classifier.dense`.
    public var classifier: Linear
    public let labels: [String]
    public private(set) var unusedKeys: [String] = []

    /// Loads `audio_spectrogram_transformer.*` (prefix optional) and `classifier.*`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ASTConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        guard c.grid.allSatisfy({ $0 > 0 }), c.frequencyStride > 0, c.timeStride > 0 else {
            throw ModelError.invalidConfiguration(
                path: "config.json", reason: "patch_size \(c.patchSize) does not fit \(c.numberOfMelBins)×\(c.maximumLength)")
        }
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "ASTForAudioClassification needs id2label")
        }
        clsToken = try source.tensor("embeddings.cls_token", [1, 1, d])
        distillationToken = try source.tensor("embeddings.distillation_token", [1, 1, d])
        positionEmbeddings = try source.tensor("embeddings.position_embeddings", [1, 2 + c.grid[0] * c.grid[1], d])
        patchWeight = try source.tensor("embeddings.patch_embeddings.projection.weight", [d, 1, c.patchSize, c.patchSize])
        patchBias = try source.tensor("embeddings.patch_embeddings.projection.bias", [d])
        encoder = try .load(source, shape: c.common.encoderShape)
        headNorm = try .load(source, "classifier.layernorm", size: d, eps: c.common.layerNormEps, prefixed: false)
        classifier = try .load(source, "classifier.dense", input: d, output: labels.count, prefixed: false)
        if let checkpoint = source as? CheckpointWeights { unusedKeys = checkpoint.unusedKeys }
    }

    public var architecture: String { "ASTForAudioClassification" }
    public var inputName: String { "input_values" }
    public var sampleShape: [Int] { [configuration.maximumLength, configuration.numberOfMelBins] }
    /// Sigmoid (AudioSet is multi-label) unless the config's `problem_type` says single-label.
    public var scoring: LabelScoring { configuration.common.scoring(default: .sigmoid) }

    public var parameterCount: Int {
        clsToken.count + distillationToken.count + positionEmbeddings.count + patchWeight.count + patchBias.count
            + encoder.parameterCount + headNorm.weight.count + headNorm.bias.count + classifier.parameterCount
    }

    /// Runs `input_values` `[B, T, F]` (frames × mel bins, as ASTFeatureExtractor returns).
    /// - Throws: ``ModelError/inputShape(name:expected:found:)``.
    public func callAsFunction(_ features: Tensor) throws -> ModelOutput {
        try checkInput(features)
        let c = configuration
        // [B, T, F] → [B, 1, F, T]: frequency is the image height, time the width.
        var image = features.transposedLastTwo()
        image.reshape([features.shape[0], 1, c.numberOfMelBins, c.maximumLength])
        let patches = image.patchEmbedding(weight: patchWeight, bias: patchBias,
                                           stride: [c.frequencyStride, c.timeStride])
        let hidden = encoder(embed(prefix: [clsToken, distillationToken], patches: patches,
                                   positions: positionEmbeddings))
        var pooled = token(0, of: hidden)
        pooled.add(token(1, of: hidden))
        pooled.scale(by: 0.5)
        return ModelOutput(logits: classifier(headNorm(pooled)), lastHiddenState: hidden, pooled: pooled)
    }
}
