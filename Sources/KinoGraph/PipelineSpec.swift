import Foundation
import Yams

/// One stage as a pipeline file declares it, before its options are checked.
public struct StageSpec: Sendable, Equatable {
    public var id: String
    public var kind: String
    /// Ids of the stages it reads from, in port order.
    public var inputs: [String]
    /// Options as written, checked later against the kind's declarations.
    public var options: [String: RawOption]
    /// Packets processed at once (the `parallelism` key; 1 when absent).
    public var parallelism: Int
    /// The `heavy` key; `nil` leaves it to the stage.
    public var heavy: Bool?
    /// Input queue limits; `nil` keeps ``EdgeCapacity``'s defaults.
    public var queue: Int?
    public var queueBytes: Int?
    /// The line of the stage's entry in the file.
    public var line: Int?
}

/// A parsed pipeline file: `name`, `description`, `stages`.
///
/// Parsing checks the file's shape; ``makeGraph(registry:context:)`` checks kinds, options,
/// inputs, port types and cycles and builds the runnable ``Graph``. Both run before any
/// media is touched.
///
/// ```yaml
/// name: thumbnails
/// description: one frame a second, measured
/// stages:
///   - {id: frames, kind: synthetic-video, options: {frames: 300}}
///   - {id: thumbs, kind: sample, inputs: [frames], options: {mode: fps, fps: 1}}
/// ```
public struct PipelineSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    public var stages: [StageSpec]

    /// Reads and parses a pipeline file.
    /// - Throws: ``GraphError/invalidPipeline(message:line:)`` for unreadable files, bad YAML or a bad shape.
    public static func load(path: String) throws -> PipelineSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw GraphError.invalidPipeline(message: "cannot read pipeline '\(path)': \(describe(error))", line: nil)
        }
        return try parse(yaml: text)
    }

    /// Parses pipeline YAML.
    /// - Throws: ``GraphError/invalidPipeline(message:line:)`` naming the line at fault.
    public static func parse(yaml: String) throws -> PipelineSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw YAMLReader.translate(error)
        } catch {
            throw GraphError.invalidPipeline(message: "not valid YAML: \(describe(error))", line: nil)
        }
        guard let root, let mapping = root.mapping else {
            throw GraphError.invalidPipeline(message: "a pipeline must be a mapping with 'name' and 'stages'",
                                             line: root?.mark?.line)
        }
        let reader = YAMLReader(context: "pipeline")
        try reader.onlyKeys(mapping, ["name", "description", "stages"])
        let name = try reader.requiredString(mapping, "name")
        let description = try reader.string(mapping, "description", required: false) ?? ""
        guard let stagesNode = mapping["stages"] else {
            throw GraphError.invalidPipeline(message: "pipeline needs a 'stages' list", line: root.mark?.line)
        }
        guard let list = stagesNode.sequence, !list.isEmpty else {
            throw GraphError.invalidPipeline(message: "'stages' must be a non-empty list", line: stagesNode.mark?.line)
        }
        return PipelineSpec(name: name, description: description, stages: try list.map(Self.stage))
    }

    private static func stage(_ node: Node) throws -> StageSpec {
        let line = node.mark?.line
        guard let mapping = node.mapping else {
            throw GraphError.invalidPipeline(message: "each stage must be a mapping with 'id' and 'kind'", line: line)
        }
        let idReader = YAMLReader(context: "stage")
        let id = try idReader.requiredString(mapping, "id")
        let reader = YAMLReader(context: "stage '\(id)'")
        try reader.onlyKeys(mapping, NodeKeys.all)
        let kind = try reader.requiredString(mapping, "kind")
        var inputs: [String] = []
        if let node = mapping["inputs"] {
            guard let items = node.sequence else {
                throw GraphError.invalidPipeline(message: "stage '\(id)': 'inputs' must be a list of stage ids",
                                                 line: node.mark?.line)
            }
            inputs = try items.map { item in
                guard let text = item.scalar?.string else {
                    throw GraphError.invalidPipeline(message: "stage '\(id)': each input must be a stage id",
                                                     line: item.mark?.line)
                }
                return text
            }
        }
        var options: [String: RawOption] = [:]
        if let node = mapping["options"] {
            guard let items = node.mapping else {
                throw GraphError.invalidPipeline(message: "stage '\(id)': 'options' must be a mapping",
                                                 line: node.mark?.line)
            }
            for (key, value) in items {
                options[key.string ?? ""] = YAMLReader.raw(value)
            }
        }
        return StageSpec(id: id, kind: kind, inputs: inputs, options: options,
                         parallelism: try reader.int(mapping, "parallelism", minimum: 1) ?? 1,
                         heavy: try reader.bool(mapping, "heavy"),
                         queue: try reader.int(mapping, "queue", minimum: 1),
                         queueBytes: try reader.int(mapping, "queue_bytes", minimum: 1), line: line)
    }
}

extension PipelineSpec {
    /// Checks every stage against `registry` and builds the runnable graph.
    ///
    /// Checks, in order: each stage's kind is known, its options are declared and well typed
    /// (defaults filled in), the kind's own constraints hold (say, `mode: fps` needs `fps`),
    /// its output paths stay inside `context.outputDirectory` and overlap no other stage's
    /// (see ``OutputPath``), then the graph-level checks of ``GraphBuilder/build()``: unique ids, inputs that exist,
    /// input counts, matching port types, no cycles. Stages are only constructed; no file is
    /// opened or written.
    /// - Parameters:
    ///   - registry: the stage kinds that may be named.
    ///   - context: the input file and output directory the stages are built for.
    /// - Throws: ``GraphError``, with the YAML line wherever the error belongs to a line.
    public func makeGraph(registry: StageRegistry = .builtIn, context: BuildContext = BuildContext()) throws -> Graph {
        var builder = GraphBuilder(name: name)
        var seen: Set<String> = []
        var claims: [OutputClaim] = []
        for spec in stages {
            if !seen.insert(spec.id).inserted { throw GraphError.duplicateStage(id: spec.id, line: spec.line) }
            guard let kind = registry[spec.kind] else {
                throw GraphError.unknownKind(stage: spec.id, kind: spec.kind, known: registry.names, line: spec.line)
            }
            let stage: any Stage
            do {
                let (made, outputs) = try kind.build(spec.options, spec.id, spec.line, context, spec.inputs.count)
                stage = made
                try Self.checkOutputs(outputs, against: claims, context: context)
                claims += outputs
            } catch let error as GraphError {
                throw error.locating(spec.line)
            }
            var capacity = EdgeCapacity()
            if let packets = spec.queue { capacity.packets = packets }
            if let bytes = spec.queueBytes { capacity.bytes = bytes }
            builder.add(spec.id, stage, inputs: spec.inputs,
                        options: NodeOptions(parallelism: spec.parallelism, capacity: capacity, heavy: spec.heavy),
                        kind: spec.kind, line: spec.line)
        }
        return try builder.build()
    }

    /// Every output of a stage resolves inside the output folder and overlaps no earlier one.
    private static func checkOutputs(_ outputs: [OutputClaim], against earlier: [OutputClaim],
                                     context: BuildContext) throws {
        var seen = earlier
        for claim in outputs {
            do {
                _ = try context.resolve(claim.path)
            } catch {
                throw GraphError.invalidOutputPath(stage: claim.stage, option: claim.option, path: claim.path.description,
                                                   reason: error.description, line: claim.line)
            }
            if let other = seen.first(where: { $0.path.overlaps(claim.path) }) {
                throw GraphError.outputCollision(stage: claim.stage, path: claim.path.description, other: other.stage,
                                                 otherPath: other.path.description, line: claim.line)
            }
            seen.append(claim)
        }
    }
}

extension GraphError {
    /// The same error with `line` filled in where it had none.
    func locating(_ line: Int?) -> GraphError {
        switch self {
        case .missingOption(let stage, let option, nil):
            return .missingOption(stage: stage, option: option, line: line)
        case .invalidOption(let stage, let option, let expected, let got, nil):
            return .invalidOption(stage: stage, option: option, expected: expected, got: got, line: line)
        case .invalidPipeline(let message, nil):
            return .invalidPipeline(message: message, line: line)
        case .invalidOutputPath(let stage, let option, let path, let reason, nil):
            return .invalidOutputPath(stage: stage, option: option, path: path, reason: reason, line: line)
        default:
            return self
        }
    }
}

