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
    /// A model folder could not be written.
    case unwritable(path: String, reason: String)
    /// An adapter or head cannot be attached to this model.
    case notAdaptable(architecture: String, reason: String)
    /// An adapter folder that does not fit the base model or is not a Kino/PEFT adapter.
    case invalidAdapter(path: String, reason: String)
    /// Merging needs a purely linear adapter.
    case notMergeable(kind: String, reason: String)

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
        case .unwritable(let path, let reason):
            "cannot write \(path): \(reason)"
        case .notAdaptable(let architecture, let reason):
            "cannot adapt \(architecture): \(reason)"
        case .invalidAdapter(let path, let reason):
            "adapter \(path): \(reason)"
        case .notMergeable(let kind, let reason):
            "cannot merge a \(kind) adapter into the base weights: \(reason)"
        }
    }
}

extension ModelError {
    /// Runs `body`, turning the lower layers' errors into ``ModelError``s.
    static func funnel<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as NNError {
            switch error {
            case .missingWeight(let key, let shape): throw ModelError.missingWeight(key: key, expectedShape: shape)
            case .shapeMismatch(let key, let expected, let found):
                throw ModelError.shapeMismatch(key: key, expected: expected, found: found)
            }
        } catch let error as SafeTensorsError {
            throw ModelError.safetensors(error)
        }
    }
}
