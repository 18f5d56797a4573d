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
    public internal(set) var configuration: ViTConfiguration
    public var clsToken: Parameter
    /// `[1, 1 + grid², D]`, row 0 for CLS.
    public var positionEmbeddings: Parameter
    /// Conv2d `[D, C, p, p]`.
    public var patchEmbedding: PatchEmbedding
    public var encoder: TransformerEncoder
    /// `pooler.dense`, present in `ViTModel` checkpoints, absent under a classifier.
    public var pooler: Linear?
    public var unusedKeys: [String] = []

    /// Loads the backbone from `source` (keys `embeddings.*`, `encoder.*`, `layernorm.*`,
    /// optionally `pooler.dense.*`, each with or without the `vit.` prefix).
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViTConfiguration, weights source: any WeightSource, withPooler: Bool? = nil) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        guard c.patchSize > 0, c.imageSize >= c.patchSize else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "patch_size \(c.patchSize) for image_size \(c.imageSize)")
        }
        try ConfigurationCheck.atLeast(1, c.numberOfChannels, "num_channels")
        let tokens = try ConfigurationCheck.tokens(
            prefix: 1, grid: [c.gridSize, c.gridSize], fields: "image_size \(c.imageSize) and patch_size \(c.patchSize)")
        self.configuration = c
        (clsToken, positionEmbeddings, patchEmbedding, encoder, pooler) = try ModelError.funnel {
            (try source.parameter("embeddings.cls_token", shape: [1, 1, d], role: .embedding),
             try source.parameter("embeddings.position_embeddings", shape: [1, tokens, d], role: .embedding),
             try PatchEmbedding.load(source, "embeddings.patch_embeddings.projection",
                                     shape: [d, c.numberOfChannels, c.patchSize, c.patchSize]),
             try TransformerEncoder.load(source, shape: c.common.encoderShape),
             withPooler ?? source.contains("pooler.dense.weight", prefixed: true)
                ? try Linear.load(source, "pooler.dense", input: d, output: d) : nil)
        }
    }

    public var architecture: String { "ViTModel" }
    public var labels: [String] { [] }
    public var inputName: String { "pixel_values" }
    public var sampleShape: [Int] { [configuration.numberOfChannels, configuration.imageSize, configuration.imageSize] }
    public var scoring: LabelScoring { .softmax }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }
    public var checkpointRoot: String { "vit." }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&encoder)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&clsToken)
        try body(&positionEmbeddings)
        try patchEmbedding.visitParameters(body)
        try encoder.visitParameters(body)
        try pooler.visitParameters(body)
    }

    public func forward<C: ConvolutionContext>(_ input: C.Value, in c: inout C) -> ModelValues<C.Value> {
        forward(input, interpolatePositionEncoding: false, in: &c)
    }

    /// The forward; with `interpolatePositionEncoding` the position table is resized bicubically
    /// to the input's grid (no gradient flows into the table through that resize).
    public func forward<C: ConvolutionContext>(_ pixels: C.Value, interpolatePositionEncoding: Bool,
                                          in c: inout C) -> ModelValues<C.Value> {
        let cfg = configuration
        let shape = c.tensor(pixels).shape
        let patches = patchEmbedding(pixels, &c)
        var positions = c.parameter(positionEmbeddings)
        let (h, w) = (shape[2] / cfg.patchSize, shape[3] / cfg.patchSize)
        if interpolatePositionEncoding && (h != cfg.gridSize || w != cfg.gridSize) {
            positions = c.withoutGradient("bicubic position interpolation", [positions]) {
                Self.interpolated($0[0], grid: cfg.gridSize, height: h, width: w)
            }
        }
        let hidden = encoder(embed(prefix: [clsToken], patches: patches, positions: positions, &c), &c)
        let pooled = pooler.map { dense in c.activation(dense(c.token(0, of: hidden), &c), .tanh) }
        return ModelValues(logits: nil, lastHiddenState: hidden, pooled: pooled)
    }

    /// Runs `pixel_values` `[B, C, H, W]`.
    ///
    /// - Parameter interpolatePositionEncoding: accept sizes other than `image_size` by resizing
    ///   the position grid bicubically, as HF's `interpolate_pos_encoding=True`.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)`` for a wrong shape.
    public func forward(_ pixels: Tensor, interpolatePositionEncoding: Bool) throws -> ModelOutput {
        try checkPixels(pixels, interpolatePositionEncoding: interpolatePositionEncoding)
        return Self.eagerly { forward(pixels, interpolatePositionEncoding: interpolatePositionEncoding, in: &$0) }
    }

    func checkPixels(_ pixels: Tensor, interpolatePositionEncoding: Bool) throws {
        let c = configuration
        guard interpolatePositionEncoding else { return try checkInput(pixels) }
        guard pixels.rank == 4, pixels.shape[1] == c.numberOfChannels,
              pixels.shape[2] >= c.patchSize, pixels.shape[3] >= c.patchSize else {
            throw ModelError.inputShape(name: inputName, expected: "[B, \(c.numberOfChannels), H ≥ \(c.patchSize), W ≥ \(c.patchSize)]",
                                        found: pixels.shape)
        }
        try checkFinite(pixels)
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
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// Loads `vit.*` and `classifier.*` from `source`.
    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key.
    public init(configuration: ViTConfiguration, weights source: any WeightSource) throws {
        let n = try configuration.common.labelCount(head: "classifier.weight", in: source)
        vit = try ViTModel(configuration: configuration, weights: source, withPooler: false)
        labels = configuration.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "ViTForImageClassification needs id2label")
        }
        let d = configuration.common.hiddenSize
        classifier = try ModelError.funnel { try Linear.load(source, "classifier", input: d, output: n, prefixed: false) }
    }

    public var architecture: String { "ViTForImageClassification" }
    public var inputName: String { vit.inputName }
    public var sampleShape: [Int] { vit.sampleShape }
    public var scoring: LabelScoring { vit.configuration.common.scoring(default: .softmax) }
    public func configurationJSON() throws -> Data { try vit.configurationJSON() }
    public var checkpointRoot: String { vit.checkpointRoot }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try vit.visitEncoders(body)
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: vit.configuration.common.hiddenSize, labels: labels.count, random: &random)
        vit.configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try vit.visitParameters(body)
        try classifier.visitParameters(body)
    }

    public func forward<C: ConvolutionContext>(_ input: C.Value, in c: inout C) -> ModelValues<C.Value> {
        forward(input, interpolatePositionEncoding: false, in: &c)
    }

    /// Logits from the CLS token after the final norm.
    public func forward<C: ConvolutionContext>(_ pixels: C.Value, interpolatePositionEncoding: Bool,
                                          in c: inout C) -> ModelValues<C.Value> {
        var out = vit.forward(pixels, interpolatePositionEncoding: interpolatePositionEncoding, in: &c)
        out.logits = classifier(c.token(0, of: out.lastHiddenState), &c)
        return out
    }

    /// `head`: the CLS token after the final norm, `[D]`.
    public var cuts: [ForwardCut] {
        [ForwardCut(name: "head", featureShape: [vit.configuration.common.hiddenSize], suffixRoots: ["classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        precondition(cut.name == "head")
        return c.token(0, of: vit.forward(input, interpolatePositionEncoding: false, in: &c).lastHiddenState)
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(features, &c), lastHiddenState: features)
    }

    /// Logits from the CLS token after the final norm; see ``ViTModel/forward(_:interpolatePositionEncoding:)``.
    public func forward(_ pixels: Tensor, interpolatePositionEncoding: Bool) throws -> ModelOutput {
        try vit.checkPixels(pixels, interpolatePositionEncoding: interpolatePositionEncoding)
        return Self.eagerly { forward(pixels, interpolatePositionEncoding: interpolatePositionEncoding, in: &$0) }
    }
}
