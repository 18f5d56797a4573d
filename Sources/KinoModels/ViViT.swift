// ViViT Model 1, joint space-time attention (Arnab et al., "ViViT: A Video Vision Transformer"),
// as Hugging Face's VivitForVideoClassification computes it (models/vivit/modeling_vivit.py).
import Foundation
import KinoTensor

/// `config.json` of `model_type: "vivit"`.
public struct ViViTConfiguration: Codable, Sendable, Equatable {
    public var common: CommonConfiguration
    public var imageSize: Int
    public var numberOfFrames: Int
    /// `[t, h, w]` extent of one tubelet.
    public var tubeletSize: [Int]
    public var numberOfChannels: Int

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case numberOfFrames = "num_frames"
        case tubeletSize = "tubelet_size"
        case numberOfChannels = "num_channels"
    }

    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        numberOfFrames = try c.decodeIfPresent(Int.self, forKey: .numberOfFrames) ?? 32
        tubeletSize = try c.decodeIfPresent([Int].self, forKey: .tubeletSize) ?? [2, 16, 16]
        numberOfChannels = try c.decodeIfPresent(Int.self, forKey: .numberOfChannels) ?? 3
        // VivitConfig's own defaults differ from ViT's where the file leaves them out.
        let shared = try decoder.container(keyedBy: CommonConfiguration.CodingKeys.self)
        if !shared.contains(.layerNormEps) { common.layerNormEps = 1e-6 }
        if !shared.contains(.hiddenActivation) { common.hiddenActivation = .geluFast }
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(numberOfFrames, forKey: .numberOfFrames)
        try c.encode(tubeletSize, forKey: .tubeletSize)
        try c.encode(numberOfChannels, forKey: .numberOfChannels)
    }

    /// Tubelets along time, height and width.
    public var grid: [Int] {
        PatchGeometry(kernel: tubeletSize).grid([numberOfFrames, imageSize, imageSize])
    }

    func validate() throws {
        try common.validate(path: "config.json")
        try ConfigurationCheck.atLeast(1, numberOfChannels, "num_channels")
        guard tubeletSize.count == 3, tubeletSize.allSatisfy({ $0 > 0 }), grid.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidConfiguration(
                path: "config.json",
                reason: "tubelet_size \(tubeletSize) does not fit \(numberOfFrames) frames of \(imageSize)²")
        }
    }
}

/// `VivitForVideoClassification`: tubelet embedding over the whole clip, one encoder over all
/// space-time tokens, linear head on the CLS token.
public struct VivitForVideoClassification: KinoModel {
    public internal(set) var configuration: ViViTConfiguration
    public var clsToken: Parameter
    /// `[1, 1 + nT·nH·nW, D]`.
    public var positionEmbeddings: Parameter
    /// Conv3d `[D, C, t, h, w]`.
    public var tubeletEmbedding: PatchEmbedding
    public var encoder: TransformerEncoder
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// Loads `vivit.*` (prefix optional) and `classifier.*` from `source`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViViTConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.validate()
        let tokens = try ConfigurationCheck.tokens(
            prefix: 1, grid: c.grid, fields: "image_size \(c.imageSize), num_frames \(c.numberOfFrames) and tubelet_size \(c.tubeletSize)")
        let n = try c.common.labelCount(head: "classifier.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "VivitForVideoClassification needs id2label")
        }
        (clsToken, positionEmbeddings, tubeletEmbedding, encoder, classifier) = try ModelError.funnel {
            (try source.parameter("embeddings.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("embeddings.position_embeddings", shape: [1, tokens, d], role: .embedding),
             try PatchEmbedding.load(source, "embeddings.patch_embeddings.projection",
                                     shape: [d, c.numberOfChannels] + c.tubeletSize),
             try TransformerEncoder.load(source, shape: c.common.encoderShape),
             try Linear.load(source, "classifier", input: d, output: n, prefixed: false))
        }
    }

    public var architecture: String { "VivitForVideoClassification" }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] {
        [configuration.numberOfFrames, configuration.numberOfChannels, configuration.imageSize, configuration.imageSize]
    }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }
    public var checkpointRoot: String { "vivit." }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&encoder)
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&clsToken)
        try body(&positionEmbeddings)
        try tubeletEmbedding.visitParameters(body)
        try encoder.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// `pixel_values` `[B, T, C, H, W]` (frames, then channel planes) at exactly the configured
    /// frame count and size: HF's pos-encoding interpolation ignores time, so it is not offered.
    public func forward<C: ConvolutionContext>(_ pixels: C.Value, in c: inout C) -> ModelValues<C.Value> {
        let patches = tubeletEmbedding(pixels, &c)
        let hidden = encoder(embed(prefix: [clsToken], patches: patches, positions: c.parameter(positionEmbeddings), &c), &c)
        return ModelValues(logits: classifier(c.token(0, of: hidden), &c), lastHiddenState: hidden)
    }

    /// `head`: the CLS token after the final norm, `[D]`.
    public var cuts: [ForwardCut] {
        [ForwardCut(name: "head", featureShape: [configuration.common.hiddenSize], suffixRoots: ["classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        precondition(cut.name == "head")
        return c.token(0, of: forward(input, in: &c).lastHiddenState)
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(features, &c), lastHiddenState: features)
    }
}
