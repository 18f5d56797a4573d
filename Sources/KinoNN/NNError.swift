import Foundation
import KinoTensor

/// What KinoNN can throw while loading or updating parameters.
public enum NNError: Error, Equatable, LocalizedError {
    /// A parameter has no tensor under its key.
    case missingWeight(key: String, expectedShape: [Int])
    /// A tensor's shape is not the parameter's.
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var errorDescription: String? {
        switch self {
        case .missingWeight(let key, let shape):
            "no weight \"\(key)\" (expected shape \(shape))"
        case .shapeMismatch(let key, let expected, let found):
            "weight \"\(key)\" has shape \(found), the model needs \(expected)"
        }
    }
}
