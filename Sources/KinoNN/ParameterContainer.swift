import Foundation
import KinoTensor

/// A value that owns parameters and visits them in one fixed order.
///
/// The single traversal behind counting, saving, freezing, optimiser state and merging:
/// each layer writes its `visitParameters` once (a few lines) and composes its children's.
public protocol ParameterContainer {
    /// Calls `body` on every parameter, in a fixed order, allowing it to change them.
    mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows
}

extension ParameterContainer {
    /// Every parameter in visiting order (a copy: the values are copy-on-write).
    public var allParameters: [Parameter] {
        var copy = self
        var out: [Parameter] = []
        copy.visitParameters { out.append($0) }
        return out
    }

    /// Number of weights.
    public var parameterCount: Int { allParameters.reduce(0) { $0 + $1.count } }

    /// Number of weights training may change.
    public var trainableParameterCount: Int { allParameters.filter(\.isTrainable).reduce(0) { $0 + $1.count } }

    /// Parameters by key, optionally filtered.
    public func parameters(where keep: (Parameter) -> Bool = { _ in true }) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in allParameters where keep(p) { out[p.key] = p.value }
        return out
    }

    /// Marks the parameters whose key matches `pattern` frozen.
    public mutating func freeze(matching pattern: KeyPattern = .all) {
        visitParameters { if pattern.matches($0.key) { $0.isTrainable = false } }
    }

    /// Marks the parameters whose key matches `pattern` trainable.
    public mutating func unfreeze(matching pattern: KeyPattern = .all) {
        visitParameters { if pattern.matches($0.key) { $0.isTrainable = true } }
    }

    /// Replaces parameter values by key from `tensors`.
    ///
    /// - Parameter requireAll: throw when a parameter has no tensor (else it keeps its value).
    /// - Returns: the keys of `tensors` no parameter took, sorted.
    /// - Throws: ``NNError/missingWeight(key:expectedShape:)``, ``NNError/shapeMismatch(key:expected:found:)``.
    @discardableResult
    public mutating func update(from tensors: [String: Tensor], requireAll: Bool = false) throws -> [String] {
        var used: Set<String> = []
        try visitParameters { p in
            guard let t = tensors[p.key] else {
                if requireAll { throw NNError.missingWeight(key: p.key, expectedShape: p.shape) }
                return
            }
            guard t.shape == p.shape else { throw NNError.shapeMismatch(key: p.key, expected: p.shape, found: t.shape) }
            p.value = t
            used.insert(p.key)
        }
        return tensors.keys.filter { !used.contains($0) }.sorted()
    }

    /// Writes the parameters (all, or those `keep` accepts) to one safetensors file.
    /// - Throws: ``SafeTensorsError/writeFailed(path:reason:)``.
    public func saveParameters(to path: String, metadata: [String: String] = [:],
                               where keep: (Parameter) -> Bool = { _ in true }) throws {
        try SafeTensorsWriter.write(parameters(where: keep), metadata: metadata, to: path)
    }
}

extension Array: ParameterContainer where Element: ParameterContainer {
    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        for i in indices { try self[i].visitParameters(body) }
    }
}

extension Optional: ParameterContainer where Wrapped: ParameterContainer {
    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        if self != nil { try self!.visitParameters(body) }
    }
}

extension Parameter: ParameterContainer {
    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows { try body(&self) }
}

/// A glob over parameter keys: `*` matches any run of characters (dots included), `?` one
/// character; several patterns separated by commas match when any does.
///
/// `"*.bias"` (BitFit), `"classifier.*"`, `"*layernorm*"`.
public struct KeyPattern: Sendable, Equatable, ExpressibleByStringLiteral {
    public var patterns: [String]

    public init(_ text: String) {
        patterns = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// Every key.
    public static let all = KeyPattern("*")

    public func matches(_ key: String) -> Bool {
        patterns.contains { Self.glob(Array($0.utf8)[...], Array(key.utf8)[...]) }
    }

    private static func glob(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        if first == UInt8(ascii: "*") {
            var rest = s
            while true {
                if glob(p.dropFirst(), rest) { return true }
                if rest.isEmpty { return false }
                rest = rest.dropFirst()
            }
        }
        guard let c = s.first, first == UInt8(ascii: "?") || first == c else { return false }
        return glob(p.dropFirst(), s.dropFirst())
    }
}
