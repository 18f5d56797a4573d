import Foundation

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

    public init(id: String, kind: String, packetsIn: Int = 0, packetsOut: Int = 0, busySeconds: Double = 0,
                blockedSeconds: Double = 0, queueHighWater: Int = 0, queueHighWaterBytes: Int = 0,
                queueCapacity: Int = 0, parallelism: Int = 1) {
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
