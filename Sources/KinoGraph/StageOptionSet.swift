/// A stage kind's options as one Swift type, declared once.
///
/// The type's property initial values are the defaults; ``schema`` binds each pipeline key to
/// a property by key path, with its bounds and documentation. The pipeline loader checks a
/// stage's `options:` against the schema and writes the values into a fresh instance, which
/// is what the kind's constructor receives, so the names, types and ranges that
/// `kino pipeline check` validates are the ones the stage reads: there is no second list of
/// string keys to drift.
///
/// ```swift
/// struct ToneOptions: StageOptionSet {
///     var seconds = 3.0
///     var label: String?
///     static let schema: [OptionField<Self>] = [
///         .double("seconds", \.seconds, minimum: 0, "duration"),
///         .string("label", \.label, "a name for the tone"),
///     ]
/// }
/// ```
public protocol StageOptionSet: Sendable {
    /// Every option at its default.
    init()
    /// The options a pipeline may give, one entry per key.
    static var schema: [OptionField<Self>] { get }
}

/// A kind that takes no options.
public struct NoOptions: StageOptionSet {
    public init() {}
    public static var schema: [OptionField<NoOptions>] { [] }
}

/// One pipeline option bound to a property of the kind's ``StageOptionSet``.
///
/// Made with the typed factories (``int(_:_:minimum:maximum:required:_:)`` and friends), so the
/// declared type is always the property's type.
public struct OptionField<Options>: Sendable {
    /// Name, type, default, bounds and documentation, as listed and checked.
    public let spec: OptionSpec
    /// Stores a value already checked against ``spec``.
    let assign: @Sendable (inout Options, OptionValue) throws(OptionAssignError) -> Void
    /// The output this option makes the stage write, if it is an output path.
    let output: (@Sendable (Options) -> OutputPath?)?
}

extension OptionField {
    /// The same option for a set that holds this one's set at `key` (options shared by kinds).
    public func lifted<Outer>(_ key: any (WritableKeyPath<Outer, Options> & Sendable)) -> OptionField<Outer> {
        let assign = self.assign
        let output = self.output
        return OptionField<Outer>(
            spec: spec,
            assign: { outer, value throws(OptionAssignError) in try assign(&outer[keyPath: key], value) },
            output: output.map { get in { @Sendable outer in get(outer[keyPath: key]) } })
    }
}

/// A checked value that did not fit its property (only if a factory were wrong).
struct OptionAssignError: Error {}

extension OptionField where Options: StageOptionSet {
    private static func field<T>(_ name: String, _ type: OptionType, _ key: any (WritableKeyPath<Options, T> & Sendable),
                                 default value: (T) -> OptionValue?, required: Bool, minimum: Double? = nil,
                                 maximum: Double? = nil, _ summary: String,
                                 convert: @escaping @Sendable (OptionValue) -> T?) -> Self {
        let spec = OptionSpec(name, type, default: required ? nil : value(Options()[keyPath: key]), required: required,
                              minimum: minimum, maximum: maximum, summary)
        return OptionField(spec: spec, assign: { options, raw throws(OptionAssignError) in
            guard let converted = convert(raw) else { throw OptionAssignError() }
            options[keyPath: key] = converted
        }, output: nil)
    }

    private static func intValue(_ v: OptionValue) -> Int? { if case .int(let x) = v { x } else { nil } }
    private static func doubleValue(_ v: OptionValue) -> Double? {
        switch v {
        case .double(let x): x
        case .int(let x): Double(x)
        default: nil
        }
    }
    private static func boolValue(_ v: OptionValue) -> Bool? { if case .bool(let x) = v { x } else { nil } }
    private static func stringValue(_ v: OptionValue) -> String? { if case .string(let x) = v { x } else { nil } }

    /// An integer option with a default (the property's initial value), or `required`.
    public static func int(_ name: String, _ key: any (WritableKeyPath<Options, Int> & Sendable), minimum: Int? = nil,
                           maximum: Int? = nil, required: Bool = false, _ summary: String) -> Self {
        field(name, .int, key, default: { .int($0) }, required: required, minimum: minimum.map(Double.init),
              maximum: maximum.map(Double.init), summary, convert: intValue)
    }

    /// An integer option that may be absent (`nil`).
    public static func int(_ name: String, _ key: any (WritableKeyPath<Options, Int?> & Sendable), minimum: Int? = nil,
                           maximum: Int? = nil, _ summary: String) -> Self {
        field(name, .int, key, default: { $0.map { .int($0) } }, required: false, minimum: minimum.map(Double.init),
              maximum: maximum.map(Double.init), summary, convert: intValue)
    }

    /// A number option (integers are widened) with a default, or `required`.
    public static func double(_ name: String, _ key: any (WritableKeyPath<Options, Double> & Sendable), minimum: Double? = nil,
                              maximum: Double? = nil, required: Bool = false, _ summary: String) -> Self {
        field(name, .double, key, default: { .double($0) }, required: required, minimum: minimum, maximum: maximum,
              summary, convert: doubleValue)
    }

    /// A number option that may be absent.
    public static func double(_ name: String, _ key: any (WritableKeyPath<Options, Double?> & Sendable), minimum: Double? = nil,
                              maximum: Double? = nil, _ summary: String) -> Self {
        field(name, .double, key, default: { $0.map { .double($0) } }, required: false, minimum: minimum,
              maximum: maximum, summary, convert: doubleValue)
    }

    public static func bool(_ name: String, _ key: any (WritableKeyPath<Options, Bool> & Sendable), _ summary: String) -> Self {
        field(name, .bool, key, default: { .bool($0) }, required: false, summary, convert: boolValue)
    }

    /// A flag that may be absent, so the stage keeps its own default.
    public static func bool(_ name: String, _ key: any (WritableKeyPath<Options, Bool?> & Sendable), _ summary: String) -> Self {
        field(name, .bool, key, default: { $0.map { .bool($0) } }, required: false, summary, convert: boolValue)
    }

    public static func string(_ name: String, _ key: any (WritableKeyPath<Options, String> & Sendable), required: Bool = false,
                              _ summary: String) -> Self {
        field(name, .string, key, default: { .string($0) }, required: required, summary, convert: stringValue)
    }

    public static func string(_ name: String, _ key: any (WritableKeyPath<Options, String?> & Sendable), _ summary: String) -> Self {
        field(name, .string, key, default: { $0.map { .string($0) } }, required: false, summary, convert: stringValue)
    }

    /// One of an enum's raw values; the allowed words are its cases.
    public static func choice<T: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ key: any (WritableKeyPath<Options, T> & Sendable), required: Bool = false, _ summary: String
    ) -> Self where T.RawValue == String {
        field(name, .choice(T.allCases.map(\.rawValue)), key, default: { .string($0.rawValue) }, required: required,
              summary, convert: { stringValue($0).flatMap(T.init(rawValue:)) })
    }

    /// A file the stage writes, relative to the output folder (see ``OutputPath``).
    public static func outputFile(_ name: String, _ key: any (WritableKeyPath<Options, OutputPath?> & Sendable),
                                  required: Bool = true, _ summary: String) -> Self {
        outputPath(name, .outputFile, key, required: required, summary)
    }

    /// A folder the stage writes into, relative to the output folder; nothing else may write inside it.
    public static func outputDirectory(_ name: String, _ key: any (WritableKeyPath<Options, OutputPath?> & Sendable),
                                       required: Bool = true, _ summary: String) -> Self {
        outputPath(name, .outputDirectory, key, required: required, summary)
    }

    private static func outputPath(_ name: String, _ type: OptionType, _ key: any (WritableKeyPath<Options, OutputPath?> & Sendable),
                                   required: Bool, _ summary: String) -> Self {
        let plain = field(name, type, key, default: { $0.map { .path($0) } }, required: required, summary,
                          convert: { if case .path(let p) = $0 { p } else { nil } })
        return OptionField(spec: plain.spec, assign: plain.assign, output: { $0[keyPath: key] })
    }
}

extension StageOptionSet {
    /// Checks `raw` against ``schema`` and returns the options with defaults filled in, and
    /// the outputs they name.
    ///
    /// - Throws: ``GraphError/unknownOption(stage:kind:option:known:line:)``,
    ///   ``GraphError/invalidOption(stage:option:expected:got:line:)``,
    ///   ``GraphError/invalidOutputPath(stage:option:path:reason:line:)``,
    ///   ``GraphError/missingOption(stage:option:line:)``.
    static func decode(_ raw: [String: RawOption], stage: String, kind: String, line: Int?,
                       context: BuildContext) throws -> (Self, [OutputClaim]) {
        let fields = schema
        let byName = Dictionary(fields.map { ($0.spec.name, $0) }, uniquingKeysWith: { first, _ in first })
        var options = Self()
        var lines: [String: Int?] = [:]
        for (name, option) in raw.sorted(by: { $0.key < $1.key }) {
            guard let field = byName[name] else {
                throw GraphError.unknownOption(stage: stage, kind: kind, option: name, known: fields.map(\.spec.name),
                                               line: option.line)
            }
            let value = try StageOptions.convert(option, field.spec, stage: stage, context: context)
            do {
                try field.assign(&options, value)
            } catch {
                throw GraphError.invalidOption(stage: stage, option: name, expected: field.spec.type.description,
                                               got: option.text, line: option.line)
            }
            lines[name] = option.line
        }
        for field in fields where field.spec.required && raw[field.spec.name] == nil {
            throw GraphError.missingOption(stage: stage, option: field.spec.name, line: line)
        }
        let claims = fields.compactMap { field -> OutputClaim? in
            guard let path = field.output?(options) else { return nil }
            return OutputClaim(stage: stage, option: field.spec.name, path: path, line: lines[field.spec.name] ?? line)
        }
        return (options, claims)
    }
}
