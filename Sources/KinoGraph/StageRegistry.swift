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
