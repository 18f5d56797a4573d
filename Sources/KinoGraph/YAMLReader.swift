import Yams

/// Small typed accessors over Yams nodes that fail with the key and line at fault.
struct YAMLReader {
    /// How the thing being read is named in messages ("pipeline", "stage 'x'").
    let context: String

    func onlyKeys(_ mapping: Node.Mapping, _ allowed: [String]) throws {
        for key in mapping.keys {
            let name = key.string ?? ""
            if !allowed.contains(name) {
                throw GraphError.invalidPipeline(
                    message: "\(context) has unknown key '\(name)' (allowed: \(allowed.joined(separator: ", ")))",
                    line: key.mark?.line)
            }
        }
    }

    func string(_ mapping: Node.Mapping, _ key: String, required: Bool) throws -> String? {
        guard let node = mapping[key] else {
            if required { throw GraphError.invalidPipeline(message: "\(context) needs '\(key)'", line: lineOf(mapping)) }
            return nil
        }
        guard let scalar = node.scalar, !scalar.string.isEmpty, Self.raw(node).kind != .null else {
            throw GraphError.invalidPipeline(message: "\(context): '\(key)' must be a non-empty string",
                                             line: node.mark?.line)
        }
        return scalar.string
    }

    /// A key that must be present, as a non-empty string.
    func requiredString(_ mapping: Node.Mapping, _ key: String) throws -> String {
        guard let value = try string(mapping, key, required: true) else {
            throw GraphError.invalidPipeline(message: "\(context) needs '\(key)'", line: lineOf(mapping))
        }
        return value
    }

    func int(_ mapping: Node.Mapping, _ key: String, minimum: Int) throws -> Int? {
        guard let node = mapping[key] else { return nil }
        let raw = Self.raw(node)
        guard raw.kind == .int, let value = Int(raw.text), value >= minimum else {
            throw GraphError.invalidPipeline(message: "\(context): '\(key)' must be an integer ≥ \(minimum), got '\(raw.text)'",
                                             line: node.mark?.line)
        }
        return value
    }

    func bool(_ mapping: Node.Mapping, _ key: String) throws -> Bool? {
        guard let node = mapping[key] else { return nil }
        guard let value = node.bool, Self.raw(node).kind == .bool else {
            throw GraphError.invalidPipeline(message: "\(context): '\(key)' must be true or false",
                                             line: node.mark?.line)
        }
        return value
    }

    private func lineOf(_ mapping: Node.Mapping) -> Int? {
        mapping.mark?.line
    }

    /// A scalar's text with the type YAML resolved for it (quoted scalars stay strings).
    static func raw(_ node: Node) -> RawOption {
        let line = node.mark?.line
        guard let scalar = node.scalar else {
            return RawOption(text: node.sequence != nil ? "a list" : "a mapping", kind: .collection, line: line)
        }
        // Quoted scalars are always strings; plain ones get YAML's core-schema type.
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        let resolved = quoted ? Tag.Name.str.rawValue : Resolver.default.resolveTag(of: node).rawValue
        let kind: RawOption.Kind = switch resolved {
        case Tag.Name.int.rawValue: .int
        case Tag.Name.float.rawValue: .float
        case Tag.Name.bool.rawValue: .bool
        case Tag.Name.null.rawValue: .null
        default: .string
        }
        return RawOption(text: kind == .null ? "null" : scalar.string, kind: kind, line: line)
    }

    /// Yams parse errors carry a position; keep it.
    static func translate(_ error: YamlError) -> GraphError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return .invalidPipeline(message: "not valid YAML: \(problem)", line: mark.line)
        default:
            return .invalidPipeline(message: "not valid YAML: \(error)", line: nil)
        }
    }
}
