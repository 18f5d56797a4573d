import Foundation
import KinoFiles

/// Runs a checked ``Graph`` on Dispatch and reports what happened.
///
/// Each stage runs on its own serial queue; a stage with parallelism N also gets a concurrent
/// queue for its packets and re-orders their outputs by sequence number. Heavy stages share
/// one ``ComputePool``. The call blocks until every stage has finished.
///
/// Stages keep state (a sampler's position, a sink's file), so a graph is run once: build a
/// fresh one from the ``PipelineSpec`` for every input file.
///
/// ```swift
/// let report = GraphRunner(graph: graph).run()
/// if report.status == .failed { print(report.failure!.error.localizedDescription) }
/// ```
public final class GraphRunner: Sendable {
    public let graph: Graph
    /// Shared by every heavy stage of this runner's runs.
    public let pool: ComputePool

    public init(graph: Graph, pool: ComputePool = ComputePool()) {
        self.graph = graph
        self.pool = pool
    }

    /// Runs the graph to the end, to cancellation, or to the first error.
    ///
    /// Cancelling `cancel` stops the sources; packets already in flight are still processed and
    /// sinks finish with their outputs marked incomplete. When a stage throws, the run cancels
    /// itself the same way, the failing stage's inputs are discarded, and the report names the
    /// stage, the media time of the packet it was handling, and the cause.
    /// - Parameters:
    ///   - cancel: a token the caller may cancel from any thread.
    ///   - progressInterval: seconds between calls of `progress`.
    ///   - progress: called on a background queue with a snapshot of every stage's statistics
    ///     while the run goes on (for a progress bar: a source's `lastSeconds` against the
    ///     stream duration).
    /// - Returns: the report; this call does not throw.
    public func run(cancel: CancelToken = CancelToken(), progressInterval: Double = 0.5,
                    progress: (@Sendable ([StageStats]) -> Void)? = nil) -> RunReport {
        let started = Date()
        let run = RunState()
        cancel.onCancel { [token = run.token] in token.cancel() }

        var gates: [String: InputGate] = [:]
        let ordered = graph.timeOrderedStages()
        for node in graph.nodes where !node.inputs.isEmpty {
            gates[node.id] = InputGate(inputs: node.inputs.count, capacity: node.options.capacity,
                                       ordered: ordered.contains(node.id))
        }
        var workers: [NodeWorker] = []
        for node in graph.nodes {
            var targets: [(gate: InputGate, input: Int)] = []
            for consumer in graph.nodes {
                for (port, input) in consumer.inputs.enumerated() where input == node.id {
                    targets.append((gates[consumer.id]!, port))
                }
            }
            workers.append(NodeWorker(node: node, gate: gates[node.id], port: OutputPort(targets: targets),
                                      run: run, pool: pool))
        }

        let group = DispatchGroup()
        for worker in workers {
            let queue = DispatchQueue(label: "kino.stage.\(worker.node.id)")
            queue.async(group: group) { worker.run() }
        }
        let timer = progress.map { report in
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kino.graph.progress"))
            timer.schedule(deadline: .now() + progressInterval, repeating: progressInterval)
            timer.setEventHandler { report(workers.map { $0.statistics() }) }
            timer.resume()
            return timer
        }
        group.wait()
        timer?.cancel()

        let failure = run.failure
        let status: RunReport.Status = failure != nil ? .failed : (run.token.isCancelled ? .cancelled : .completed)
        return RunReport(name: graph.name, status: status, failure: failure,
                         stages: workers.map { $0.statistics() }, outputs: run.files.current,
                         streams: run.streams.current, labels: run.labels.current, wallSeconds: Date().timeIntervalSince(started))
    }
}

/// State shared by all stages of one run.
final class RunState: Sendable {
    /// Cancelled by the caller's token or by the first failure.
    let token = CancelToken()
    let files = Locked<[OutputFile]>([])
    let streams = Locked<[DecodedStream]>([])
    let labels = Locked<[FileLabels]>([])
    private let firstFailure = Locked<StageFailure?>(nil)

    var failure: StageFailure? { firstFailure.current }

    /// Records a failure if it is the first, then stops the sources.
    func fail(stage: String, seconds: Double?, error: any Error) {
        // The failure already names the stage; do not repeat it in the message.
        var message = describe(error)
        if case .invalidInput(stage, let text)? = error as? GraphError { message = text }
        firstFailure.withLock { current in
            if current == nil {
                current = StageFailure(stage: stage, seconds: seconds, message: message)
            }
        }
        token.cancel()
    }
}

/// A readable message for any error: `LocalizedError`'s description when there is one.
func describe(_ error: any Error) -> String {
    plainDescription(of: error)
}

/// Monotonic seconds, for busy-time accounting.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// What one stage did during a run.
public struct StageStats: Sendable, Codable, Equatable {
    /// The stage id.
    public var id: String
    /// The kind it was made from.
    public var kind: String
    /// Packets taken from its inputs (info packets included).
    public var packetsIn: Int
    /// Packets it emitted (info packets included).
    public var packetsOut: Int
    /// Seconds spent producing or processing, not counting time blocked on full queues.
    public var busySeconds: Double
    /// Seconds its emits were blocked because a consumer's queue was full (back-pressure).
    public var blockedSeconds: Double
    /// Most packets waiting at once in any one of its input queues.
    public var queueHighWater: Int
    /// Most payload bytes waiting at once in any one of its input queues.
    public var queueHighWaterBytes: Int
    /// The packet limit of each of its input queues.
    public var queueCapacity: Int
    /// Packets it was allowed to process at once.
    public var parallelism: Int
    /// Media time of the last packet it emitted (info packets aside); `nil` before the first.
    public var lastSeconds: Double?

    public init(id: String, kind: String, packetsIn: Int = 0, packetsOut: Int = 0, busySeconds: Double = 0,
                blockedSeconds: Double = 0, queueHighWater: Int = 0, queueHighWaterBytes: Int = 0,
                queueCapacity: Int = 0, parallelism: Int = 1, lastSeconds: Double? = nil) {
        self.id = id
        self.kind = kind
        self.packetsIn = packetsIn
        self.packetsOut = packetsOut
        self.busySeconds = busySeconds
        self.blockedSeconds = blockedSeconds
        self.queueHighWater = queueHighWater
        self.queueHighWaterBytes = queueHighWaterBytes
        self.queueCapacity = queueCapacity
        self.parallelism = parallelism
        self.lastSeconds = lastSeconds
    }
}

/// The first error of a run: which stage, at what media time, and why.
public struct StageFailure: Sendable, Codable, Equatable {
    public var stage: String
    /// Time of the packet being handled (for a source, the last time it emitted); `nil` if none yet.
    public var seconds: Double?
    public var message: String

    /// The same facts as a ``GraphError``.
    public var error: GraphError { .stageFailed(stage: stage, seconds: seconds, message: message) }
}

/// The outcome of ``GraphRunner/run(cancel:)``: status, per-stage statistics, files, first error.
///
/// It is `Codable` so a CLI can write it out as `summary.json` unchanged.
public struct RunReport: Sendable, Codable, Equatable {
    /// How the run ended.
    public enum Status: String, Sendable, Codable {
        /// Every source reached its end and every stage finished.
        case completed
        /// The cancel token was set before the sources ended; outputs are marked incomplete.
        case cancelled
        /// A stage threw; see ``RunReport/failure``.
        case failed
    }

    /// The pipeline name.
    public var name: String
    public var status: Status
    /// The first error, when the status is `failed`.
    public var failure: StageFailure?
    /// Statistics for every stage, in topological order.
    public var stages: [StageStats]
    /// Files written by sinks.
    public var outputs: [OutputFile]
    /// What each source's decoder met (errors, concealed frames, how far it got).
    public var streams: [DecodedStream] = []
    /// What each classifier stage concluded about the whole input (model, main labels), in
    /// the order the stages finished.
    public var labels: [FileLabels] = []
    /// Wall-clock duration of the run.
    public var wallSeconds: Double

    /// Statistics of the stage with `id`.
    public func stats(_ id: String) -> StageStats? { stages.first { $0.id == id } }

    /// Pretty-printed JSON with sorted keys, stable across runs.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

