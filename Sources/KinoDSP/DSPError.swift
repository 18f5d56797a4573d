import Foundation

/// Errors KinoDSP throws for options a user supplied.
public enum DSPError: Error, Sendable, Equatable, LocalizedError {
    /// An option is out of range or inconsistent with another; the payload names it and says why.
    case invalidOption(name: String, value: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidOption(name, value, reason): "invalid \(name) = \(value): \(reason)"
        }
    }
}

/// Throws ``DSPError/invalidOption(name:value:reason:)`` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ name: String, _ value: Any, _ reason: @autoclosure () -> String) throws {
    if !condition { throw DSPError.invalidOption(name: name, value: "\(value)", reason: reason()) }
}
