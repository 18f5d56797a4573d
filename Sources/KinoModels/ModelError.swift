import Foundation
import KinoTensor

/// Everything KinoModels can throw while loading a checkpoint or running a model.
public enum ModelError: Error, Equatable, LocalizedError {
    /// A file of the model folder is missing or unreadable.
    case unreadable(path: String, reason: String)
    /// `config.json` does not decode, or a field has a value the model cannot use.
    case invalidConfiguration(path: String, reason: String)
    /// `model_type` names no registered architecture.
    case unknownModelType(String, known: [String])
    /// The checkpoint lacks a weight the model needs.
    case missingWeight(key: String, expectedShape: [Int])
    /// A weight has a shape other than the configuration implies.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// The input tensor has the wrong shape for this model.
    case inputShape(name: String, expected: String, found: [Int])
    /// The input holds NaN or ±infinity (the first offending element's flat index and value).
    case nonFiniteInput(name: String, index: Int, value: Float)
    /// The safetensors file itself is malformed.
    case safetensors(SafeTensorsError)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .invalidConfiguration(let path, let reason):
            "invalid model configuration \(path): \(reason)"
        case .unknownModelType(let type, let known):
            "model_type \"\(type)\" is not supported (known: \(known.joined(separator: ", ")))"
        case .missingWeight(let key, let shape):
            "checkpoint has no weight \"\(key)\" (expected shape \(shape))"
        case .shapeMismatch(let key, let expected, let found):
            "weight \"\(key)\" has shape \(found), the configuration needs \(expected)"
        case .inputShape(let name, let expected, let found):
            "input \(name) has shape \(found), expected \(expected)"
        case .nonFiniteInput(let name, let index, let value):
            "input \(name) holds \(value) at flat index \(index): inputs must be finite"
        case .safetensors(let error):
            error.errorDescription
        }
    }
}

/// Where a model's weights come from: a checkpoint file, or a generator for benchmarks and
/// for parts a checkpoint does not provide.
public protocol WeightSource: AnyObject {
    /// The tensor for `key` after verifying it has `shape`.
    ///
    /// `key` is the name without the model prefix (`encoder.layer.0.output.dense.weight`);
    /// `prefixed: false` marks head keys that never carry one (`classifier.weight`).
    /// - Throws: ``ModelError/missingWeight(key:expectedShape:)``,
    ///   ``ModelError/shapeMismatch(key:expected:found:)``.
    func tensor(_ key: String, shape: [Int], prefixed: Bool) throws -> Tensor

    /// Whether `key` exists, so optional parts (a pooler) can be detected.
    func contains(_ key: String, prefixed: Bool) -> Bool
}

extension WeightSource {
    func tensor(_ key: String, _ shape: [Int]) throws -> Tensor {
        try tensor(key, shape: shape, prefixed: true)
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
    /// - Throws: ``ModelError/safetensors(_:)``.
    public init(path: String, prefix: String) throws {
        do {
            self.file = try SafeTensorsFile(path: path)
        } catch let error as SafeTensorsError {
            throw ModelError.safetensors(error)
        }
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

    public func tensor(_ key: String, shape: [Int], prefixed: Bool) throws -> Tensor {
        guard let name = resolve(key, prefixed: prefixed) else {
            throw ModelError.missingWeight(key: (prefixed ? prefix : "") + key, expectedShape: shape)
        }
        let found = file.entries[name]!.shape
        // A [1, 1, D] token stored as [1, D] would be a different model; shapes must agree exactly.
        guard found == shape else { throw ModelError.shapeMismatch(key: name, expected: shape, found: found) }
        used.insert(name)
        do {
            return try file.tensor(name)
        } catch let error as SafeTensorsError {
            throw ModelError.safetensors(error)
        }
    }

    /// Keys of the file no part of the model asked for, sorted.
    public var unusedKeys: [String] { file.names.filter { !used.contains($0) } }
}

/// Weights drawn from a seeded normal distribution (std 0.02, as HF's `initializer_range`),
/// layer-norm scales set to one and biases to zero: real shapes for benchmarks, and the
/// documented initialisation for parts a checkpoint lacks.
public final class RandomWeights: WeightSource {
    private var generator: SeededGenerator
    /// Standard deviation of matrices and embeddings.
    public var standardDeviation: Float

    public init(seed: UInt64 = 0, standardDeviation: Float = 0.02) {
        self.generator = SeededGenerator(seed: seed)
        self.standardDeviation = standardDeviation
    }

    public func contains(_ key: String, prefixed: Bool) -> Bool { false }

    public func tensor(_ key: String, shape: [Int], prefixed: Bool) throws -> Tensor {
        let isNorm = key.contains("layernorm") || key.contains("norm.")
        if key.hasSuffix("bias") { return Tensor(zeros: shape) }
        if isNorm && key.hasSuffix("weight") { return Tensor(repeating: 1, shape: shape) }
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.storage[i] = generator.nextNormal() * standardDeviation }
        return t
    }
}

/// SplitMix64 with Box–Muller normals: small, seedable, identical on every platform.
struct SeededGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func nextUniform() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }

    mutating func nextNormal() -> Float {
        let u = nextUniform(), v = nextUniform()
        return Float((-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}
