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

/// A classifier of log-mel filterbank windows `[frames, bins]`, computed as AST's feature
/// extractor computes them (16 kHz Kaldi fbank, AudioSet mean and standard deviation): AST and
/// Kino's compact transformer take the same `input_values`.
public protocol FbankClassifier: KinoModel {
    /// Frames per window (`max_length`).
    var windowFrames: Int { get }
    /// Mel bins (`num_mel_bins`).
    var melBins: Int { get }
}

/// A classifier of clips prepared as Hugging Face's `VideoMAEImageProcessor` prepares them (short
/// side, centre crop, rescale, per-channel mean and standard deviation from the folder's
/// `preprocessor_config.json`): VideoMAE and TimeSformer checkpoints. Their clips come from
/// ``VideoPreprocessor/load(directory:cropSize:)``.
public protocol VideoMAEProcessedClassifier: KinoModel {
    /// Frames per clip and the step between them, as transformers' video-classification
    /// pipeline samples them.
    var frameSampling: FrameSampling { get }
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

/// What a generic forward pass returns: the same fields as ``ModelOutput``, as context values.
public struct ModelValues<Value> {
    public var logits: Value?
    public var lastHiddenState: Value
    public var pooled: Value?

    public init(logits: Value?, lastHiddenState: Value, pooled: Value? = nil) {
        self.logits = logits
        self.lastHiddenState = lastHiddenState
        self.pooled = pooled
    }
}

/// A loaded classifier or backbone of any supported architecture.
///
/// The forward is written once, generic over a ``TensorContext``: ``callAsFunction(_:)`` runs it
/// eagerly, a ``Tape`` records it for training. Parameters are visited through
/// ``ParameterContainer``, which gives counts, saving and freezing for every architecture.
public protocol KinoModel: ParameterContainer, Sendable {
    /// The HF class it corresponds to (`ViTForImageClassification`, …).
    var architecture: String { get }
    /// Label names in index order (empty for a backbone).
    var labels: [String] { get }
    /// `pixel_values` or `input_values`.
    var inputName: String { get }
    /// Shape of one sample, without the batch dimension.
    var sampleShape: [Int] { get }
    /// Softmax for single-label heads, sigmoid for multi-label ones.
    var scoring: LabelScoring { get }
    /// Checkpoint keys no part of the model used (reported, not fatal); set by ``ModelRegistry``.
    var unusedKeys: [String] { get set }
    /// `config.json` as the registry reads it back.
    func configurationJSON() throws -> Data

    /// Calls `body` on each transformer encoder, in order: adapters attach to their blocks.
    mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows
    /// The prefix HF checkpoints put before encoder and embedding keys (`vit.`, `vivit.`,
    /// `audio_spectrogram_transformer.`); empty for Kino's own layouts.
    var checkpointRoot: String { get }
    /// Replaces the classification head by a new one for `labels` (HF's init: normal with std
    /// 0.02, zero bias), and the configuration's `id2label` and `problem_type` with it.
    /// - Throws: ``ModelError/notAdaptable(architecture:reason:)`` for a backbone.
    mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws

    /// The forward pass on a batch `[B] + sampleShape` already checked by the caller.
    func forward<C: ConvolutionContext>(_ input: C.Value, in c: inout C) -> ModelValues<C.Value>

    /// Runs a batch `[B] + sampleShape`.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)``.
    func callAsFunction(_ input: Tensor) throws -> ModelOutput

    /// Points the forward can be split at, latest first (``ForwardCut``); none by default.
    var cuts: [ForwardCut] { get }
    /// The forward up to `cut` on a batch: `[B] + cut.featureShape`.
    func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value
    /// The forward from `cut` on, on features `[B] + cut.featureShape`. `lastHiddenState` is the
    /// last token sequence the rest computes; for a head cut, the features themselves.
    func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value>
}

extension KinoModel {
    public var checkpointRoot: String { "" }

    public var cuts: [ForwardCut] { [] }
    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        preconditionFailure("\(architecture) has no cut \(cut.name)")
    }
    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        preconditionFailure("\(architecture) has no cut \(cut.name)")
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        throw ModelError.notAdaptable(architecture: architecture, reason: "it has no classification head")
    }

    /// The batch-norm buffers of every adapter in the encoders.
    public mutating func visitBuffers(_ body: (inout BatchNormStatistics) throws -> Void) rethrows {
        try visitEncoders { try $0.visitBuffers(body) }
    }

    /// Buffers by key.
    public var buffers: [String: Tensor] {
        var copy = self
        var out: [String: Tensor] = [:]
        copy.visitBuffers { out[$0.meanKey] = $0.mean; out[$0.varianceKey] = $0.variance }
        return out
    }

    /// Sets buffers by key; returns the keys nothing took.
    @discardableResult
    public mutating func updateBuffers(_ tensors: [String: Tensor]) throws -> [String] {
        var used: Set<String> = []
        try visitBuffers { s in
            for (key, path) in [(s.meanKey, \BatchNormStatistics.mean), (s.varianceKey, \BatchNormStatistics.variance)] {
                guard let t = tensors[key] else { continue }
                guard t.shape == s[keyPath: path].shape else {
                    throw NNError.shapeMismatch(key: key, expected: s[keyPath: path].shape, found: t.shape)
                }
                s[keyPath: path] = t
                used.insert(key)
            }
        }
        return tensors.keys.filter { !used.contains($0) }.sorted()
    }

    public func callAsFunction(_ input: Tensor) throws -> ModelOutput {
        try checkInput(input)
        return Self.eagerly { forward(input, in: &$0) }
    }

    /// Runs a generic forward on ``Eager`` and names its values as ``ModelOutput`` does.
    static func eagerly(_ body: (inout Eager) -> ModelValues<Tensor>) -> ModelOutput {
        var e = Eager()
        let out = body(&e)
        return ModelOutput(logits: out.logits, lastHiddenState: out.lastHiddenState, pooled: out.pooled)
    }

    /// Throws unless `input` is `[B] + sampleShape` with B ≥ 1 and every value is finite.
    public func checkInput(_ input: Tensor) throws {
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

    /// Writes `config.json` and `model.safetensors` (every parameter under its key) to
    /// `directory`, created if needed, each file under a temporary name then renamed: a folder
    /// ``ModelRegistry/load(directory:)`` reads back with no unused key.
    /// - Throws: ``ModelError/unwritable(path:reason:)``, ``ModelError/safetensors(_:)``.
    public func save(to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try configurationJSON().write(to: URL(fileURLWithPath: directory + "/config.json"), options: .atomic)
        } catch {
            throw ModelError.unwritable(path: directory, reason: error.localizedDescription)
        }
        do {
            try saveParameters(to: directory + "/model.safetensors", metadata: ["format": "pt"])
        } catch let error as SafeTensorsError {
            throw ModelError.safetensors(error)
        }
    }
}

/// A new head `[labels, width]`, HF's init, under `key`.
func newHead(key: String, width: Int, labels: Int, random: inout SplitMix64Source) -> Linear {
    Linear(weight: Parameter(key: key + ".weight", value: random.normal([labels, width], standardDeviation: 0.02)),
           bias: Parameter(key: key + ".bias", value: Tensor(zeros: [labels])))
}

extension CommonConfiguration {
    /// `id2label` and `problem_type` for a new head.
    mutating func relabel(_ labels: [String], multiLabel: Bool) {
        idToLabel = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
        problemType = multiLabel ? "multi_label_classification" : "single_label_classification"
    }
}

/// `config.json` bytes of an encodable configuration, keys sorted.
func encodeConfiguration(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(value)
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

    /// Labels in index order; indices missing from `id2label` get `LABEL_i`. Keys that are not
    /// label indices (see ``labelCount(head:in:)``, which models check on loading) are left out.
    public var labels: [String] {
        guard let map = idToLabel, !map.isEmpty else { return [] }
        let count = (labelIndices().indices.max() ?? -1) + 1
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

    /// Throws when the sizes cannot describe a transformer, or (unless `allowsUnbiasedProjections`,
    /// for models whose projections can drop their biases) when `qkv_bias` is false.
    func validate(path: String, allowsUnbiasedProjections: Bool = false) throws {
        try ConfigurationCheck.atLeast(1, hiddenSize, "hidden_size")
        try ConfigurationCheck.atLeast(1, numberOfHeads, "num_attention_heads")
        try ConfigurationCheck.atLeast(0, numberOfLayers, "num_hidden_layers")
        try ConfigurationCheck.atLeast(1, intermediateSize, "intermediate_size")
        guard hiddenSize % numberOfHeads == 0 else {
            throw ModelError.invalidConfiguration(
                path: path, reason: "hidden_size \(hiddenSize) must be a positive multiple of num_attention_heads \(numberOfHeads)")
        }
        guard qkvBias || allowsUnbiasedProjections else {
            throw ModelError.invalidConfiguration(path: path, reason: "qkv_bias false is not supported")
        }
    }
}

/// Prepends `tokens` (each `[1, 1, D]`) to every batch item of `patches` (`[B, P, D]`) and adds
/// `positions` (`[1, n + P, D]`).
func embed<C: ConvolutionContext>(prefix tokens: [Parameter], patches: C.Value, positions: C.Value,
                             _ c: inout C) -> C.Value {
    let shape = c.tensor(patches).shape
    // A token repeated over the batch: 0 + t is exact, and its gradient sums over the batch.
    let zeros = c.constant(Tensor(zeros: [shape[0], 1, shape[2]]))
    let prefix = tokens.map { c.add(zeros, c.parameter($0)) }
    let joined = c.concatenate(prefix + [patches], axis: 1)
    return c.add(joined, positions)
}
