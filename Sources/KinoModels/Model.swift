import Foundation
import KinoTensor

/// What a forward pass returns, named as Hugging Face names them.
public struct ModelOutput: Sendable {
    /// `[B, labels]`; `nil` for a backbone without a head.
    public var logits: Tensor?
    /// Tokens after the final layer norm, `[B, N, D]`.
    public var lastHiddenState: Tensor
    /// ViTModel/VivitModel pooler or AST's mean of CLS and distillation token, when defined.
    public var pooled: Tensor?

    public init(logits: Tensor?, lastHiddenState: Tensor, pooled: Tensor? = nil) {
        self.logits = logits
        self.lastHiddenState = lastHiddenState
        self.pooled = pooled
    }
}

/// How scores are turned into probabilities: one class per input (ImageNet, Kinetics) or
/// independent labels (AudioSet).
public enum LabelScoring: String, Sendable {
    case softmax
    case sigmoid

    /// Probabilities for one row of logits.
    public func probabilities(_ logits: [Float]) -> [Float] {
        switch self {
        case .sigmoid:
            return logits.map { 1 / (1 + exp(-$0)) }
        case .softmax:
            var row = Tensor(shape: [logits.count], values: logits)
            row.softmaxLastDimension()
            return row.storage
        }
    }
}

/// A loaded classifier or backbone of any supported architecture.
public protocol KinoModel: Sendable {
    /// The HF class it corresponds to (`ViTForImageClassification`, …).
    var architecture: String { get }
    /// Label names in index order (empty for a backbone).
    var labels: [String] { get }
    /// Number of weights, all of them.
    var parameterCount: Int { get }
    /// `pixel_values` or `input_values`.
    var inputName: String { get }
    /// Shape of one sample, without the batch dimension.
    var sampleShape: [Int] { get }
    /// Softmax for single-label heads, sigmoid for multi-label ones.
    var scoring: LabelScoring { get }
    /// Checkpoint keys no part of the model used (reported, not fatal).
    var unusedKeys: [String] { get }

    /// Runs a batch `[B] + sampleShape`.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)``.
    func callAsFunction(_ input: Tensor) throws -> ModelOutput
}

extension KinoModel {
    /// Throws unless `input` is `[B] + sampleShape` with B ≥ 1 and every value is finite.
    func checkInput(_ input: Tensor) throws {
        guard input.rank == sampleShape.count + 1, Array(input.shape.dropFirst()) == sampleShape,
              input.shape[0] >= 1 else {
            throw ModelError.inputShape(name: inputName, expected: "[B] + \(sampleShape)", found: input.shape)
        }
        try checkFinite(input)
    }

    /// Throws for the first NaN or infinite value: one would silently turn every logit into NaN.
    func checkFinite(_ input: Tensor) throws {
        if let i = input.storage.firstIndex(where: { !$0.isFinite }) {
            throw ModelError.nonFiniteInput(name: inputName, index: i, value: input.storage[i])
        }
    }
}

/// Fields every Hugging Face transformer config shares, decoded with HF's defaults.
public struct CommonConfiguration: Codable, Sendable, Equatable {
    public var modelType: String
    public var architectures: [String]?
    public var hiddenSize: Int
    public var numberOfLayers: Int
    public var numberOfHeads: Int
    public var intermediateSize: Int
    public var hiddenActivation: Activation
    public var layerNormEps: Float
    public var qkvBias: Bool
    /// Label names by index, as the JSON object `{"0": "tench", …}`.
    public var idToLabel: [String: String]?
    /// HF `problem_type`: `single_label_classification` or `multi_label_classification`, when set.
    public var problemType: String?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case architectures
        case hiddenSize = "hidden_size"
        case numberOfLayers = "num_hidden_layers"
        case numberOfHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenActivation = "hidden_act"
        case layerNormEps = "layer_norm_eps"
        case qkvBias = "qkv_bias"
        case idToLabel = "id2label"
        case problemType = "problem_type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decode(String.self, forKey: .modelType)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 768
        numberOfLayers = try c.decodeIfPresent(Int.self, forKey: .numberOfLayers) ?? 12
        numberOfHeads = try c.decodeIfPresent(Int.self, forKey: .numberOfHeads) ?? 12
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 3072
        hiddenActivation = try c.decodeIfPresent(Activation.self, forKey: .hiddenActivation) ?? .gelu
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? true
        idToLabel = try c.decodeIfPresent([String: String].self, forKey: .idToLabel)
        problemType = try c.decodeIfPresent(String.self, forKey: .problemType)
    }

    /// Labels in index order; indices missing from `id2label` get `LABEL_i`.
    public var labels: [String] {
        guard let map = idToLabel, !map.isEmpty else { return [] }
        let indices = map.keys.compactMap(Int.init)
        let count = (indices.max() ?? -1) + 1
        return (0..<count).map { map[String($0)] ?? "LABEL_\($0)" }
    }

    /// The encoder sizes these fields describe.
    public var encoderShape: EncoderShape {
        EncoderShape(hiddenSize: hiddenSize, heads: numberOfHeads, intermediateSize: intermediateSize,
                     layers: numberOfLayers, activation: hiddenActivation, layerNormEps: layerNormEps)
    }

    /// Sigmoid or softmax: `problem_type` when the config sets it, else the architecture's default.
    func scoring(default fallback: LabelScoring) -> LabelScoring {
        switch problemType {
        case "multi_label_classification": .sigmoid
        case "single_label_classification": .softmax
        default: fallback
        }
    }

    /// Whether `architectures` names a class ending in `suffix` (a task head).
    func names(_ suffix: String) -> Bool { architectures?.contains { $0.hasSuffix(suffix) } ?? false }

    /// Throws when the sizes cannot describe a transformer.
    func validate(path: String) throws {
        guard hiddenSize > 0, numberOfHeads > 0, hiddenSize % numberOfHeads == 0, numberOfLayers >= 0,
              intermediateSize > 0 else {
            throw ModelError.invalidConfiguration(
                path: path, reason: "hidden_size \(hiddenSize) must be a positive multiple of num_attention_heads \(numberOfHeads)")
        }
        guard qkvBias else {
            throw ModelError.invalidConfiguration(path: path, reason: "qkv_bias false is not supported")
        }
    }
}

/// Prepends `tokens` (each `[1, 1, D]`) to every batch item of `patches` (`[B, P, D]`) and adds
/// `positions` (`[1, n + P, D]`).
func embed(prefix tokens: [Tensor], patches: Tensor, positions: Tensor) -> Tensor {
    let (b, p, d) = (patches.shape[0], patches.shape[1], patches.shape[2])
    let n = tokens.count + p
    var out = Tensor(zeros: [b, n, d])
    for batch in 0..<b {
        var row = batch * n * d
        for token in tokens {
            out.storage.replaceSubrange(row ..< row + d, with: token.storage)
            row += d
        }
        out.storage.replaceSubrange(row ..< row + p * d, with: patches.storage[batch * p * d ..< (batch + 1) * p * d])
    }
    var pos = positions
    pos.reshape([n * d])
    out.addRow(pos)
    return out
}

/// Row `index` of every batch item of `[B, N, D]`, as `[B, D]`.
func token(_ index: Int, of hidden: Tensor) -> Tensor {
    let (b, n, d) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
    var out = Tensor(zeros: [b, d])
    for batch in 0..<b {
        let from = (batch * n + index) * d
        out.storage.replaceSubrange(batch * d ..< (batch + 1) * d, with: hidden.storage[from ..< from + d])
    }
    return out
}
