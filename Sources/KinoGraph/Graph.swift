/// How the runner treats one stage: parallelism, queue size, compute pool.
public struct NodeOptions: Sendable, Equatable {
    /// Packets processed at once; above 1 only for stateless stages. Outputs keep input order.
    public var parallelism: Int
    /// Capacity of each of this stage's input edges.
    public var capacity: EdgeCapacity
    /// Whether to take a ``ComputePool`` slot while processing; `nil` uses the stage's own answer.
    public var heavy: Bool?

    public init(parallelism: Int = 1, capacity: EdgeCapacity = EdgeCapacity(), heavy: Bool? = nil) {
        self.parallelism = parallelism
        self.capacity = capacity
        self.heavy = heavy
    }
}

/// One stage placed in a graph, with the ids of the stages it reads from.
public struct GraphNode: Sendable {
    public var id: String
    /// The registry kind it was made from, or the Swift type name for stages added by code.
    public var kind: String
    public var stage: any Stage
    /// Ids of the stages it reads from, one per input port.
    public var inputs: [String]
    /// How the runner schedules it.
    public var options: NodeOptions
    /// The pipeline-file line that declared it, for error messages.
    public var line: Int?
}

/// A checked graph: ids unique, inputs present, port types matching, no cycles.
///
/// Nodes are kept in a topological order (every node after its inputs).
public struct Graph: Sendable {
    public let name: String
    public let nodes: [GraphNode]

    /// The node with `id`, if any.
    public func node(_ id: String) -> GraphNode? { nodes.first { $0.id == id } }
}

/// Collects stages and connections, then checks them all at once in ``build()``.
///
/// ```swift
/// var builder = GraphBuilder(name: "demo")
/// builder.add("frames", SyntheticVideoSource(count: 30))
/// builder.add("sample", SampleStage(mode: .everyNth(5)), inputs: ["frames"])
/// let graph = try builder.build()
/// ```
public struct GraphBuilder: Sendable {
    public var name: String
    /// Lets a video decoder whose consumers are all samplers skip converting the frames none of
    /// them keeps (same output; see ``VideoDecodeSource``). On by default.
    public var planDecoding = true
    private var nodes: [GraphNode] = []

    public init(name: String = "graph") {
        self.name = name
    }

    /// Adds a stage reading from the stages named in `inputs` (in port order).
    public mutating func add(_ id: String, _ stage: any Stage, inputs: [String] = [],
                             options: NodeOptions = NodeOptions(), kind: String? = nil, line: Int? = nil) {
        nodes.append(GraphNode(id: id, kind: kind ?? String(describing: type(of: stage)), stage: stage,
                               inputs: inputs, options: options, line: line))
    }

    /// Checks the graph and orders it.
    ///
    /// - Throws: ``GraphError`` — `duplicateStage`, `danglingInput`, `inputCount`, `noOutput`,
    ///   `portMismatch` (naming both ends), `parallelismUnsupported`, `cycle`, or
    ///   `invalidPipeline` for a stage that is neither a source nor a processing stage.
    public func build() throws -> Graph {
        var byID: [String: GraphNode] = [:]
        for node in nodes {
            if byID[node.id] != nil { throw GraphError.duplicateStage(id: node.id, line: node.line) }
            byID[node.id] = node
        }
        for node in nodes {
            try checkShape(node)
            for input in node.inputs where byID[input] == nil {
                throw GraphError.danglingInput(stage: node.id, input: input, line: node.line)
            }
        }
        for node in nodes {
            for (port, input) in node.inputs.enumerated() {
                let producer = byID[input]!
                guard let produced = producer.stage.outputType else {
                    throw GraphError.noOutput(from: producer.id, to: node.id)
                }
                let expected = node.stage.inputTypes[port]
                if !expected.accepts(produced) {
                    throw GraphError.portMismatch(from: producer.id, output: produced, to: node.id,
                                                  port: port, expected: expected)
                }
            }
        }
        planDecoders()
        return Graph(name: name, nodes: try topologicalOrder(byID))
    }

    /// Hands each video decoder its consumers when they are all samplers (and clears any plan an
    /// earlier build left on a shared decoder stage).
    private func planDecoders() {
        for node in nodes {
            guard let source = node.stage as? VideoDecodeSource else { continue }
            let consumers = nodes.filter { $0.inputs.contains(node.id) }.map(\.stage)
            let samplers = consumers.compactMap { $0 as? SampleStage }
            let plan = planDecoding && !samplers.isEmpty && samplers.count == consumers.count
            source.samplers.withLock { $0 = plan ? samplers : nil }
        }
    }

    private func checkShape(_ node: GraphNode) throws {
        let stage = node.stage
        if stage is any SourceStage {
            if !node.inputs.isEmpty {
                throw GraphError.inputCount(stage: node.id, expected: 0, got: node.inputs.count, line: node.line)
            }
        } else if stage is any ProcessingStage {
            if stage.inputTypes.count != node.inputs.count {
                throw GraphError.inputCount(stage: node.id, expected: stage.inputTypes.count,
                                            got: node.inputs.count, line: node.line)
            }
        } else {
            throw GraphError.invalidPipeline(
                message: "stage '\(node.id)' is neither a SourceStage nor a ProcessingStage", line: node.line)
        }
        if node.options.parallelism < 1 {
            throw GraphError.invalidOption(stage: node.id, option: "parallelism", expected: "at least 1",
                                           got: String(node.options.parallelism), line: node.line)
        }
        if node.options.parallelism > 1 && (!stage.isStateless || stage is any SourceStage) {
            throw GraphError.parallelismUnsupported(stage: node.id, requested: node.options.parallelism)
        }
    }

    /// Depth-first order; a node met again while still on the stack closes a cycle.
    private func topologicalOrder(_ byID: [String: GraphNode]) throws -> [GraphNode] {
        enum Mark { case active, done }
        var marks: [String: Mark] = [:]
        var order: [GraphNode] = []
        var stack: [String] = []

        func visit(_ id: String) throws {
            switch marks[id] {
            case .done: return
            case .active:
                let start = stack.firstIndex(of: id)!
                throw GraphError.cycle(Array(stack[start...]))
            case nil: break
            }
            marks[id] = .active
            stack.append(id)
            for input in byID[id]!.inputs { try visit(input) }
            stack.removeLast()
            marks[id] = .done
            order.append(byID[id]!)
        }
        for node in nodes { try visit(node.id) }
        return order
    }
}

extension Graph {
    /// Multi-input stages whose inputs may be merged strictly by time.
    ///
    /// Strict merging keeps memory flat when independent sources run at different speeds
    /// (an audio decoder far ahead of a video decoder would otherwise pile up in the join), but
    /// it waits on the slower input, which deadlocks if that input is itself held up by the
    /// faster one. So it is used only where no such wait can form: the inputs' upstream sets
    /// are pairwise disjoint, and no other multi-input stage (outside this one's downstream)
    /// draws on two of them. Everything else takes packets from whichever input has one.
    public func timeOrderedStages() -> Set<String> {
        var upstream: [String: Set<String>] = [:]
        for node in nodes {
            upstream[node.id] = node.inputs.reduce(into: [node.id]) { $0.formUnion(upstream[$1] ?? []) }
        }
        let merges = nodes.filter { $0.inputs.count > 1 }
        var result: Set<String> = []
        for merge in merges {
            let groups = merge.inputs.map { upstream[$0] ?? [] }
            let disjoint = groups.indices.allSatisfy { a in
                groups.indices.allSatisfy { b in a == b || groups[a].isDisjoint(with: groups[b]) }
            }
            let crossed = merges.contains { other in
                guard other.id != merge.id, let above = upstream[other.id], !above.contains(merge.id) else { return false }
                return groups.filter { !$0.isDisjoint(with: above) }.count >= 2
            }
            if disjoint && !crossed { result.insert(merge.id) }
        }
        return result
    }
}
