import Foundation

/// What a stage kind's constructor may know about the run it is built for.
public struct BuildContext: Sendable {
    /// The media file the pipeline is run on, for source stages that read it.
    public var inputPath: String?
    /// Where relative output paths of sinks are resolved.
    public var outputDirectory: String

    public init(inputPath: String? = nil, outputDirectory: String = FileManager.default.currentDirectoryPath) {
        self.inputPath = inputPath
        self.outputDirectory = outputDirectory
    }

    /// `path` if absolute, else under ``outputDirectory``.
    public func outputPath(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: outputDirectory).appendingPathComponent(path).path
    }
}

/// A named way to make a stage from pipeline options.
///
/// The declared options are the whole contract: the pipeline loader rejects anything else,
/// fills in defaults, and checks types before `make` is called.
public struct StageKind: Sendable {
    public var name: String
    public var summary: String
    /// Input ports in words, for documentation (the stage itself declares the checked types).
    public var inputs: String
    /// Output in words; `nil` for sinks.
    public var output: String?
    public var options: [OptionSpec]
    /// Builds the stage from checked options.
    public var make: @Sendable (StageOptions, BuildContext) throws -> any Stage

    public init(name: String, summary: String, inputs: String, output: String?, options: [OptionSpec],
                make: @escaping @Sendable (StageOptions, BuildContext) throws -> any Stage) {
        self.name = name
        self.summary = summary
        self.inputs = inputs
        self.output = output
        self.options = options
        self.make = make
    }
}

/// The stage kinds a pipeline file may name.
///
/// ``builtIn`` holds the kinds of this module; modules above (models, media I/O) add theirs
/// with ``register(_:)`` on a copy.
public struct StageRegistry: Sendable {
    public private(set) var kinds: [String: StageKind] = [:]

    public init(_ kinds: [StageKind] = []) {
        for kind in kinds { register(kind) }
    }

    /// Adds or replaces a kind.
    public mutating func register(_ kind: StageKind) {
        kinds[kind.name] = kind
    }

    /// Kind names in alphabetical order.
    public var names: [String] { kinds.keys.sorted() }

    public subscript(name: String) -> StageKind? { kinds[name] }

    /// The kinds built into KinoGraph: `decode`, synthetic sources, `sample`, `audio`, `pairs`,
    /// `join`, `measure`, and the sinks `jsonl`, `frames`, `video`.
    public static let builtIn = StageRegistry(BuiltInKinds.all)
}

/// Node settings every stage accepts beside its options, as pipeline keys of the stage itself.
enum NodeKeys {
    static let all = ["id", "kind", "inputs", "options", "parallelism", "heavy", "queue", "queue_bytes"]
}

/// The type of a stage option, as the pipeline file must spell it.
public enum OptionType: Sendable, Equatable, CustomStringConvertible {
    case int
    case double
    case bool
    case string
    /// One of a fixed set of words.
    case choice([String])

    public var description: String {
        switch self {
        case .int: "an integer"
        case .double: "a number"
        case .bool: "true or false"
        case .string: "a string"
        case .choice(let words): "one of " + words.joined(separator: ", ")
        }
    }
}

/// A checked option value.
public enum OptionValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .double(let v): String(v)
        case .bool(let v): String(v)
        case .string(let v): v
        }
    }
}

/// One option a stage kind accepts: name, type, default and a line of documentation.
public struct OptionSpec: Sendable, Equatable {
    public var name: String
    public var type: OptionType
    /// Used when the pipeline does not give the option; `nil` with `required == false`
    /// means "absent" and the stage decides.
    public var defaultValue: OptionValue?
    public var required: Bool
    /// Smallest allowed value for numbers.
    public var minimum: Double?
    public var summary: String

    public init(_ name: String, _ type: OptionType, default defaultValue: OptionValue? = nil,
                required: Bool = false, minimum: Double? = nil, _ summary: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.minimum = minimum
        self.summary = summary
    }
}

/// A raw option value from a pipeline file: its text, how YAML resolved it, and its line.
public struct RawOption: Sendable, Equatable {
    /// The type YAML's core schema gives the scalar; quoted scalars are always `string`.
    public enum Kind: Sendable, Equatable { case int, float, bool, null, string, collection }
    public var text: String
    public var kind: Kind
    public var line: Int?

    public init(text: String, kind: Kind, line: Int? = nil) {
        self.text = text
        self.kind = kind
        self.line = line
    }
}

/// The checked options of one stage, defaults filled in.
public struct StageOptions: Sendable, Equatable {
    /// The id of the stage they belong to, for error messages.
    public var stage: String
    public var values: [String: OptionValue]

    public init(stage: String, values: [String: OptionValue] = [:]) {
        self.stage = stage
        self.values = values
    }

    /// The value of an integer option, or `nil` when absent (typed accessors below likewise).
    public func int(_ name: String) -> Int? {
        if case .int(let v)? = values[name] { return v }
        return nil
    }

    /// A number option; integers are widened.
    public func double(_ name: String) -> Double? {
        switch values[name] {
        case .double(let v)?: v
        case .int(let v)?: Double(v)
        default: nil
        }
    }

    public func bool(_ name: String) -> Bool? {
        if case .bool(let v)? = values[name] { return v }
        return nil
    }

    public func string(_ name: String) -> String? {
        if case .string(let v)? = values[name] { return v }
        return nil
    }

    /// The value of a required option, or a `missingOption` error naming it.
    public func require<T>(_ name: String, _ get: (String) -> T?) throws -> T {
        guard let value = get(name) else { throw GraphError.missingOption(stage: stage, option: name, line: nil) }
        return value
    }

    /// Checks `raw` against `specs`: unknown names, types, choices, minimums, required options.
    ///
    /// - Throws: ``GraphError/unknownOption(stage:option:known:line:)``,
    ///   ``GraphError/invalidOption(stage:option:expected:got:line:)``,
    ///   ``GraphError/missingOption(stage:option:line:)``.
    public static func check(_ raw: [String: RawOption], against specs: [OptionSpec], stage: String,
                             line: Int?) throws -> StageOptions {
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        var values: [String: OptionValue] = [:]
        for name in raw.keys.sorted() {
            let option = raw[name]!
            guard let spec = byName[name] else {
                throw GraphError.unknownOption(stage: stage, option: name, known: specs.map(\.name), line: option.line)
            }
            values[name] = try convert(option, spec, stage: stage)
        }
        for spec in specs where values[spec.name] == nil {
            if let value = spec.defaultValue {
                values[spec.name] = value
            } else if spec.required {
                throw GraphError.missingOption(stage: stage, option: spec.name, line: line)
            }
        }
        return StageOptions(stage: stage, values: values)
    }

    private static func convert(_ raw: RawOption, _ spec: OptionSpec, stage: String) throws -> OptionValue {
        let wrong = GraphError.invalidOption(stage: stage, option: spec.name, expected: spec.type.description,
                                             got: raw.text, line: raw.line)
        let digits = raw.text.replacingOccurrences(of: "_", with: "")
        let value: OptionValue
        switch (spec.type, raw.kind) {
        case (.int, .int):
            guard let v = Int(digits) else { throw wrong }
            value = .int(v)
        case (.double, .int), (.double, .float):
            guard let v = Double(digits) else { throw wrong }
            value = .double(v)
        case (.bool, .bool): value = .bool(["true", "yes", "on"].contains(raw.text.lowercased()))
        case (.string, .string), (.string, .int), (.string, .float): value = .string(raw.text)
        case (.choice(let words), .string) where words.contains(raw.text): value = .string(raw.text)
        default: throw wrong
        }
        if let minimum = spec.minimum {
            let number: Double? = switch value {
            case .int(let v): Double(v)
            case .double(let v): v
            default: nil
            }
            if let number, number < minimum {
                let bound = minimum == minimum.rounded() ? String(Int(minimum)) : String(minimum)
                throw GraphError.invalidOption(stage: stage, option: spec.name,
                                               expected: "\(spec.type.description) ≥ \(bound)", got: raw.text,
                                               line: raw.line)
            }
        }
        return value
    }
}

