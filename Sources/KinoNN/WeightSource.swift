import Foundation
import KinoTensor

/// What a weight is for, so an initialiser can pick a rule per layer kind rather than by key.
public enum WeightRole: Sendable {
    /// A projection or convolution kernel.
    case matrix
    case bias
    /// A normalisation's scale (γ): ones when initialised.
    case normScale
    /// A learned token or position table.
    case embedding
    /// A projection that starts at zero, so a new branch begins as the identity of the stream
    /// it is added to (an adapter's up-projection).
    case zeroMatrix
}

/// Where a model's weights come from: a checkpoint file, or a generator for benchmarks and
/// for parts a checkpoint does not provide.
public protocol WeightSource: AnyObject {
    /// The tensor for `key` after verifying it has `shape`.
    ///
    /// `key` is the name without the model prefix (`encoder.layer.0.output.dense.weight`);
    /// `prefixed: false` marks head keys that never carry one (`classifier.weight`).
    /// - Throws: ``NNError/missingWeight(key:expectedShape:)``, ``NNError/shapeMismatch(key:expected:found:)``.
    func tensor(_ key: String, shape: [Int], prefixed: Bool, role: WeightRole) throws -> Tensor

    /// The name the parameter is stored (and saved) under: the checkpoint's own spelling.
    func storedKey(_ key: String, prefixed: Bool) -> String

    /// Whether `key` exists, so optional parts (a pooler) can be detected.
    func contains(_ key: String, prefixed: Bool) -> Bool

    /// What the source can say about `key` without reading it: lets a model check a size its
    /// configuration gives (layer count, label count) against the weights before allocating.
    func availability(of key: String, prefixed: Bool) -> WeightAvailability
}

/// What a ``WeightSource`` holds under one key.
public enum WeightAvailability: Sendable, Equatable {
    /// A stored tensor of this shape.
    case stored(shape: [Int])
    /// Nothing: asking for it throws ``NNError/missingWeight(key:expectedShape:)``.
    case missing
    /// The source makes up a tensor of whatever shape is asked for (random or derived weights).
    case anyShape
}

extension WeightSource {
    /// Sources that generate weights can supply any key at any shape.
    public func availability(of key: String, prefixed: Bool) -> WeightAvailability { .anyShape }

    /// The parameter for `key`, carrying its stored key.
    public func parameter(_ key: String, shape: [Int], prefixed: Bool = true, role: WeightRole) throws -> Parameter {
        let value = try tensor(key, shape: shape, prefixed: prefixed, role: role)
        return Parameter(key: storedKey(key, prefixed: prefixed), value: value)
    }
}

/// Reads a safetensors checkpoint with Hugging Face legacy key names, with or without the
/// model prefix (`vit.`, `vivit.`, `audio_spectrogram_transformer.`), recording which keys
/// were used so the rest can be reported.
public final class CheckpointWeights: WeightSource {
    /// The mapped checkpoint.
    public let file: SafeTensorsFile
    /// The prefix of encoder and embedding keys in checkpoints of the task model.
    public let prefix: String
    private var used: Set<String> = []

    /// Opens `path`.
    /// - Throws: ``SafeTensorsError``.
    public init(path: String, prefix: String) throws {
        self.file = try SafeTensorsFile(path: path)
        self.prefix = prefix
    }

    /// The on-disk name of `key`: prefixed if the file has it that way, else bare.
    func resolve(_ key: String, prefixed: Bool) -> String? {
        if prefixed, file.entries[prefix + key] != nil { return prefix + key }
        return file.entries[key] != nil ? key : nil
    }

    public func contains(_ key: String, prefixed: Bool) -> Bool {
        resolve(key, prefixed: prefixed) != nil
    }

    public func storedKey(_ key: String, prefixed: Bool) -> String {
        resolve(key, prefixed: prefixed) ?? ((prefixed ? prefix : "") + key)
    }

    public func availability(of key: String, prefixed: Bool) -> WeightAvailability {
        guard let name = resolve(key, prefixed: prefixed), let entry = file.entries[name] else { return .missing }
        return .stored(shape: entry.shape)
    }

    public func tensor(_ key: String, shape: [Int], prefixed: Bool, role: WeightRole) throws -> Tensor {
        guard let name = resolve(key, prefixed: prefixed) else {
            throw NNError.missingWeight(key: (prefixed ? prefix : "") + key, expectedShape: shape)
        }
        let found = file.entries[name]!.shape
        // A [1, 1, D] token stored as [1, D] would be a different model; shapes must agree exactly.
        guard found == shape else { throw NNError.shapeMismatch(key: name, expected: shape, found: found) }
        used.insert(name)
        return try file.tensor(name)
    }

    /// Keys of the file no part of the model asked for, sorted.
    public var unusedKeys: [String] { file.names.filter { !used.contains($0) } }
}

/// Weights drawn from a seeded normal distribution (std 0.02, as HF's `initializer_range`),
/// normalisation scales one and biases zero: real shapes for benchmarks, and the documented
/// initialisation for parts a checkpoint lacks. Keys get `prefix` where the checkpoint's would.
public final class RandomWeights: WeightSource {
    private var generator: SplitMix64Source
    /// Standard deviation of matrices and embeddings.
    public var standardDeviation: Float
    public let prefix: String

    public init(seed: UInt64 = 0, standardDeviation: Float = 0.02, prefix: String = "") {
        self.generator = SplitMix64Source(seed: seed)
        self.standardDeviation = standardDeviation
        self.prefix = prefix
    }

    public func contains(_ key: String, prefixed: Bool) -> Bool { false }

    public func storedKey(_ key: String, prefixed: Bool) -> String { (prefixed ? prefix : "") + key }

    public func tensor(_ key: String, shape: [Int], prefixed: Bool, role: WeightRole) throws -> Tensor {
        switch role {
        case .bias, .zeroMatrix: Tensor(zeros: shape)
        case .normScale: Tensor(repeating: 1, shape: shape)
        case .matrix, .embedding: generator.normal(shape, standardDeviation: standardDeviation)
        }
    }
}
