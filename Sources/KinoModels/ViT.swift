// ViT (Dosovitskiy et al., "An Image is Worth 16x16 Words"), as Hugging Face's ViTModel and
// ViTForImageClassification compute it (transformers models/vit/modeling_vit.py).
import Foundation
import KinoTensor

/// `config.json` of `model_type: "vit"`.
public struct ViTConfiguration: Codable, Sendable, Equatable {
    public var common: CommonConfiguration
    public var imageSize: Int
    public var patchSize: Int
    public var numberOfChannels: Int

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case numberOfChannels = "num_channels"
    }

    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? 16
        numberOfChannels = try c.decodeIfPresent(Int.self, forKey: .numberOfChannels) ?? 3
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(numberOfChannels, forKey: .numberOfChannels)
    }

    /// Patches per side at the configured size.
    public var gridSize: Int { imageSize / patchSize }
}

/// The ViT backbone: patch embedding, CLS token, learned positions, encoder, final norm and
/// (for `ViTModel` checkpoints that have one) the tanh pooler.
public struct ViTModel: KinoModel {
    public let configuration: ViTConfiguration
    public var clsToken: Tensor
    /// `[1, 1 + grid², D]`, row 0 for CLS.
    public var positionEmbeddings: Tensor
    /// Conv2d weight `[D, C, p, p]`.
    public var patchWeight: Tensor
    public var patchBias: Tensor
    public var encoder: TransformerEncoder
    /// `pooler.dense`, present in `ViTModel` checkpoints, absent under a classifier.
    public var pooler: Linear?
    public private(set) var unusedKeys: [String] = []

    /// Loads the backbone from `source` (keys `embeddings.*`, `encoder.*`, `layernorm.*`,
    /// optionally `pooler.dense.*`, each with or without the `vit.` prefix).
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViTConfiguration, weights source: any WeightSource, withPooler: Bool? = nil) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        guard c.patchSize > 0, c.imageSize >= c.patchSize else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "patch_size \(c.patchSize) for image_size \(c.imageSize)")
        }
        self.configuration = c
        clsToken = try source.tensor("embeddings.cls_token", [1, 1, d])
        positionEmbeddings = try source.tensor("embeddings.position_embeddings", [1, 1 + c.gridSize * c.gridSize, d])
        patchWeight = try source.tensor("embeddings.patch_embeddings.projection.weight",
                                        [d, c.numberOfChannels, c.patchSize, c.patchSize])
        patchBias = try source.tensor("embeddings.patch_embeddings.projection.bias", [d])
        encoder = try .load(source, shape: c.common.encoderShape)
        if withPooler ?? source.contains("pooler.dense.weight", prefixed: true) {
            pooler = try .load(source, "pooler.dense", input: d, output: d)
        }
        if let checkpoint = source as? CheckpointWeights { unusedKeys = checkpoint.unusedKeys }
    }

    public var architecture: String { "ViTModel" }
    public var labels: [String] { [] }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] { [configuration.numberOfChannels, configuration.imageSize, configuration.imageSize] }
    public var scoring: LabelScoring { .softmax }

    public var parameterCount: Int {
        clsToken.count + positionEmbeddings.count + patchWeight.count + patchBias.count
            + encoder.parameterCount + (pooler?.parameterCount ?? 0)
    }

    public func callAsFunction(_ input: Tensor) throws -> ModelOutput {
        try forward(input, interpolatePositionEncoding: false)
    }

    /// Runs `pixel_values` `[B, C, H, W]`.
    ///
    /// - Parameter interpolatePositionEncoding: accept sizes other than `image_size` by resizing
    ///   the position grid bicubically, as HF's `interpolate_pos_encoding=True`.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)`` for a wrong shape.
    public func forward(_ pixels: Tensor, interpolatePositionEncoding: Bool) throws -> ModelOutput {
        let c = configuration
        if interpolatePositionEncoding {
            guard pixels.rank == 4, pixels.shape[1] == c.numberOfChannels,
                  pixels.shape[2] >= c.patchSize, pixels.shape[3] >= c.patchSize else {
                throw ModelError.inputShape(name: inputName, expected: "[B, \(c.numberOfChannels), H ≥ \(c.patchSize), W ≥ \(c.patchSize)]",
                                            found: pixels.shape)
            }
            try checkFinite(pixels)
        } else {
            try checkInput(pixels)
        }
        let patches = pixels.patchEmbedding(weight: patchWeight, bias: patchBias)
        let positions = interpolatePositionEncoding
            ? Self.interpolated(positionEmbeddings, grid: c.gridSize,
                                height: pixels.shape[2] / c.patchSize, width: pixels.shape[3] / c.patchSize)
            : positionEmbeddings
        let hidden = encoder(embed(prefix: [clsToken], patches: patches, positions: positions))
        let pooled = pooler.map { dense -> Tensor in
            var p = dense(token(0, of: hidden))
            for i in 0..<p.count { p.storage[i] = tanh(p.storage[i]) }
            return p
        }
        return ModelOutput(logits: nil, lastHiddenState: hidden, pooled: pooled)
    }

    /// HF's `interpolate_pos_encoding`: the `grid × grid` table resized bicubically to
    /// `height × width` (torch `interpolate(size:, mode: "bicubic", align_corners: False)`),
    /// CLS row untouched. Returned unchanged when the grid already matches.
    static func interpolated(_ table: Tensor, grid: Int, height: Int, width: Int) -> Tensor {
        if height == grid && width == grid { return table }
        let d = table.shape[2]
        // [grid², D] → [D, grid, grid], resize, back to [h·w, D].
        let planes = table.reshaped([1 + grid * grid, d]).slice(1 ..< 1 + grid * grid)
            .transposedLastTwo().reshaped([d, grid, grid])
        let resized = planes.resizedBicubic(height: height, width: width)
            .reshaped([d, height * width]).transposedLastTwo()
        return Tensor.concatenate([table.reshaped([1 + grid * grid, d]).slice(0 ..< 1), resized])
            .reshaped([1, 1 + height * width, d])
    }
}

/// `ViTForImageClassification`: the backbone without pooler and a linear head on the CLS token.
public struct ViTForImageClassification: KinoModel {
    public var vit: ViTModel
    /// `classifier`, `[labels, D]`.
    public var classifier: Linear
    public let labels: [String]
    public private(set) var unusedKeys: [String] = []

    /// Loads `vit.*` and `classifier.*` from `source`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViTConfiguration, weights source: any WeightSource) throws {
        vit = try ViTModel(configuration: configuration, weights: source, withPooler: false)
        labels = configuration.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "ViTForImageClassification needs id2label")
        }
        classifier = try .load(source, "classifier", input: configuration.common.hiddenSize, output: labels.count,
                               prefixed: false)
        if let checkpoint = source as? CheckpointWeights { unusedKeys = checkpoint.unusedKeys }
    }

    public var architecture: String { "ViTForImageClassification" }
    public var inputName: String { vit.inputName }
    public var sampleShape: [Int] { vit.sampleShape }
    public var scoring: LabelScoring { vit.configuration.common.scoring(default: .softmax) }
    public var parameterCount: Int { vit.parameterCount + classifier.parameterCount }

    public func callAsFunction(_ input: Tensor) throws -> ModelOutput {
        try forward(input, interpolatePositionEncoding: false)
    }

    /// Logits from the CLS token after the final norm; see ``ViTModel/forward(_:interpolatePositionEncoding:)``.
    public func forward(_ pixels: Tensor, interpolatePositionEncoding: Bool) throws -> ModelOutput {
        var out = try vit.forward(pixels, interpolatePositionEncoding: interpolatePositionEncoding)
        out.logits = classifier(token(0, of: out.lastHiddenState))
        return out
    }
}
