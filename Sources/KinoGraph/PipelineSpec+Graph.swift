extension PipelineSpec {
    /// Checks every stage against `registry` and builds the runnable graph.
    ///
    /// Checks, in order: each stage's kind is known, its options are declared and well typed
    /// (defaults filled in), the kind's own constraints hold (say, `mode: fps` needs `fps`),
    /// then the graph-level checks of ``GraphBuilder/build()``: unique ids, inputs that exist,
    /// input counts, matching port types, no cycles. Stages are only constructed; no file is
    /// opened or written.
    /// - Parameters:
    ///   - registry: the stage kinds that may be named.
    ///   - context: the input file and output directory the stages are built for.
    /// - Throws: ``GraphError``, with the YAML line wherever the error belongs to a line.
    public func makeGraph(registry: StageRegistry = .builtIn, context: BuildContext = BuildContext()) throws -> Graph {
        var builder = GraphBuilder(name: name)
        var seen: Set<String> = []
        for spec in stages {
            if !seen.insert(spec.id).inserted { throw GraphError.duplicateStage(id: spec.id, line: spec.line) }
            guard let kind = registry[spec.kind] else {
                throw GraphError.unknownKind(stage: spec.id, kind: spec.kind, known: registry.names, line: spec.line)
            }
            let options = try StageOptions.check(spec.options, against: kind.options, stage: spec.id, line: spec.line)
            let stage: any Stage
            do {
                stage = try kind.make(options, context)
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
        default:
            return self
        }
    }
}
