import Foundation

/// What a stage kind's constructor may know about the run it is built for.
public struct BuildContext: Sendable {
    /// The media file the pipeline is run on, for source stages that read it.
    public var inputPath: String?
    /// The folder every output path is resolved in (for `kino process`, the file's
    /// `.incomplete` folder).
    public var outputDirectory: String
    /// Whether output paths must be relative and stay inside ``outputDirectory`` (always for
    /// pipeline files). Turn it off only for a graph a command builds from its own
    /// arguments, where the user named the files.
    public var confinesOutputs: Bool

    public init(inputPath: String? = nil, outputDirectory: String = FileManager.default.currentDirectoryPath,
                confinesOutputs: Bool = true) {
        self.inputPath = inputPath
        self.outputDirectory = outputDirectory
        self.confinesOutputs = confinesOutputs
    }
}

/// What a kind's constructor gets beside its options.
public struct StageContext: Sendable {
    /// The id of the stage being built, for messages.
    public var id: String
    public var build: BuildContext
    /// How many inputs the pipeline file wires into the stage (sinks taking any number of
    /// event streams declare one port each).
    public var inputCount: Int = 1

    public var inputPath: String? { build.inputPath }

    /// Where the stage writes `path`: under the output folder, checked to stay inside.
    /// - Throws: ``GraphError/invalidOutputPath(stage:option:path:reason:line:)``.
    public func output(_ path: OutputPath, option: String) throws -> String {
        do {
            return try build.resolve(path)
        } catch {
            throw GraphError.invalidOutputPath(stage: id, option: option, path: path.description,
                                               reason: error.description, line: nil)
        }
    }
}

/// A named way to make a stage from pipeline options.
///
/// The declared options are the whole contract: the pipeline loader rejects anything else,
/// fills in defaults, and checks types and bounds before the constructor is called. Kinds
/// declare them as a ``StageOptionSet``, whose values the constructor receives.
public struct StageKind: Sendable {
    public var name: String
    public var summary: String
    /// Input ports in words, for documentation (the stage itself declares the checked types).
    public var inputs: String
    /// Output in words; `nil` for sinks.
    public var output: String?
    /// The declarations, for listings and documentation.
    public var options: [OptionSpec]
    /// Checks a stage's raw options and builds it, with the outputs it will write.
    let build: @Sendable (_ raw: [String: RawOption], _ id: String, _ line: Int?, _ context: BuildContext, _ inputCount: Int)
        throws -> (any Stage, [OutputClaim])

    /// A kind whose options are the typed set `Options`.
    public init<Options: StageOptionSet>(name: String, summary: String, inputs: String, output: String?,
                                         options: Options.Type,
                                         make: @escaping @Sendable (Options, StageContext) throws -> any Stage) {
        self.name = name
        self.summary = summary
        self.inputs = inputs
        self.output = output
        self.options = Options.schema.map(\.spec)
        self.build = { raw, id, line, context, inputCount in
            let (values, claims) = try Options.decode(raw, stage: id, kind: name, line: line, context: context)
            return (try make(values, StageContext(id: id, build: context, inputCount: inputCount)), claims)
        }
    }

    /// A kind with untyped options, read by name from ``StageOptions`` (for small kinds made in
    /// tests; built-in kinds use a ``StageOptionSet``). Output paths are not tracked.
    public init(name: String, summary: String, inputs: String, output: String?, options: [OptionSpec],
                make: @escaping @Sendable (StageOptions, BuildContext) throws -> any Stage) {
        self.name = name
        self.summary = summary
        self.inputs = inputs
        self.output = output
        self.options = options
        self.build = { raw, id, line, context, _ in
            let checked = try StageOptions.check(raw, against: options, stage: id, kind: name, line: line,
                                                 context: context)
            return (try make(checked, context), [])
        }
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
    /// A file the stage writes, relative to the output folder.
    case outputFile
    /// A folder the stage writes into, relative to the output folder.
    case outputDirectory

    public var description: String {
        switch self {
        case .int: "an integer"
        case .double: "a number"
        case .bool: "true or false"
        case .string: "a string"
        case .choice(let words): "one of " + words.joined(separator: ", ")
        case .outputFile: "a file path relative to the output folder"
        case .outputDirectory: "a folder path relative to the output folder"
        }
    }
}

/// A checked option value.
public enum OptionValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    /// A checked output path.
    case path(OutputPath)

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .double(let v): String(v)
        case .bool(let v): String(v)
        case .string(let v): v
        case .path(let v): v.description
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
    /// Smallest and largest allowed values for numbers.
    public var minimum: Double?
    public var maximum: Double?
    public var summary: String

    public init(_ name: String, _ type: OptionType, default defaultValue: OptionValue? = nil,
                required: Bool = false, minimum: Double? = nil, maximum: Double? = nil, _ summary: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.minimum = minimum
        self.maximum = maximum
        self.summary = summary
    }

    /// The type with its bounds, as messages and listings spell it ("an integer in 1…100").
    public var expected: String {
        func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        switch (minimum, maximum) {
        case let (low?, high?): return "\(type.description) in \(text(low))…\(text(high))"
        case let (low?, nil): return "\(type.description) ≥ \(text(low))"
        case let (nil, high?): return "\(type.description) ≤ \(text(high))"
        case (nil, nil): return type.description
        }
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

/// The checked options of one stage, defaults filled in, read by name: only for kinds made with
/// the untyped ``StageKind`` initializer (built-in kinds get their ``StageOptionSet`` instead).
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

    /// Checks `raw` against `specs`: unknown names, types, choices, bounds, required options.
    ///
    /// - Throws: ``GraphError/unknownOption(stage:kind:option:known:line:)``,
    ///   ``GraphError/invalidOption(stage:option:expected:got:line:)``,
    ///   ``GraphError/missingOption(stage:option:line:)``.
    public static func check(_ raw: [String: RawOption], against specs: [OptionSpec], stage: String, kind: String,
                             line: Int?, context: BuildContext = BuildContext()) throws -> StageOptions {
        let byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var values: [String: OptionValue] = [:]
        for (name, option) in raw.sorted(by: { $0.key < $1.key }) {
            guard let spec = byName[name] else {
                throw GraphError.unknownOption(stage: stage, kind: kind, option: name, known: specs.map(\.name),
                                               line: option.line)
            }
            values[name] = try convert(option, spec, stage: stage, context: context)
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

    /// One raw value as `spec` types it, within its bounds.
    static func convert(_ raw: RawOption, _ spec: OptionSpec, stage: String, context: BuildContext) throws -> OptionValue {
        let wrong = GraphError.invalidOption(stage: stage, option: spec.name, expected: spec.type.description,
                                             got: raw.text, line: raw.line)
        let digits = raw.text.replacingOccurrences(of: "_", with: "")
        let value: OptionValue
        switch (spec.type, raw.kind) {
        case (.int, .int):
            guard let v = Int(digits) else { throw wrong }
            value = .int(v)
        case (.double, .int), (.double, .float):
            guard let v = Double(digits), v.isFinite else { throw wrong }
            value = .double(v)
        case (.bool, .bool): value = .bool(["true", "yes", "on"].contains(raw.text.lowercased()))
        case (.string, .string), (.string, .int), (.string, .float): value = .string(raw.text)
        case (.choice(let words), .string) where words.contains(raw.text): value = .string(raw.text)
        case (.outputFile, .string), (.outputFile, .int), (.outputFile, .float),
             (.outputDirectory, .string), (.outputDirectory, .int), (.outputDirectory, .float):
            do {
                value = .path(try OutputPath(checking: raw.text, allowAbsolute: !context.confinesOutputs))
            } catch {
                throw GraphError.invalidOutputPath(stage: stage, option: spec.name, path: raw.text,
                                                   reason: error.description, line: raw.line)
            }
        default: throw wrong
        }
        let number: Double? = switch value {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
        if let number, number < (spec.minimum ?? -.infinity) || number > (spec.maximum ?? .infinity) {
            throw GraphError.invalidOption(stage: stage, option: spec.name, expected: spec.expected, got: raw.text,
                                           line: raw.line)
        }
        return value
    }
}
