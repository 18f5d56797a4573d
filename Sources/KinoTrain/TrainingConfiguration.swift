import Foundation
import KinoOptim
import KinoTensor

/// Everything that decides a training run's trajectory; recorded in every checkpoint, and a
/// resumed run must match it exactly.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable { case adamw, sgd }
    public enum Loss: String, Codable, Sendable { case crossEntropy = "cross-entropy", binaryCrossEntropy = "bce" }

    /// Samples per optimiser step.
    public var batchSize: Int
    /// Samples per gradient shard. Shards run in parallel across workers, each with its own tape,
    /// and their gradients are added in shard order, so the result does not depend on `workers`.
    public var shardSize: Int
    /// Stop after this many optimiser steps.
    public var steps: Int
    public var seed: UInt64
    public var shuffle = true
    public var optimizer: OptimizerKind = .adamw
    public var schedule: LearningRateSchedule
    public var weightDecay: Float = 0.01
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var momentum: Float = 0
    public var nesterov = false
    /// Clip the gradients' global norm to this, when set.
    public var clipNorm: Float?
    /// Keep an exponential moving average of the trainable weights with this decay, when set.
    public var emaDecay: Float?
    public var loss: Loss = .crossEntropy
    public var labelSmoothing: Float = 0
    /// Write a checkpoint every this many steps (and at the end).
    public var checkpointEvery: Int = 100
    /// Checkpoints kept; older ones are removed once a newer one is complete.
    public var keepCheckpoints: Int = 2

    public init(batchSize: Int, shardSize: Int? = nil, steps: Int, seed: UInt64 = 0, schedule: LearningRateSchedule) {
        self.batchSize = batchSize
        self.shardSize = shardSize ?? batchSize
        self.steps = steps
        self.seed = seed
        self.schedule = schedule
    }

    /// The first field in which `other` differs, named as in the JSON, or nil.
    public func firstDifference(from other: TrainingConfiguration) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let a = try? JSONSerialization.jsonObject(with: encoder.encode(self)) as? [String: Any],
              let b = try? JSONSerialization.jsonObject(with: encoder.encode(other)) as? [String: Any] else { return nil }
        func canonical(_ value: Any?) -> String {
            guard let value else { return "absent" }
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
            return data.flatMap { String(data: $0, encoding: .utf8) } ?? "\(value)"
        }
        for key in Set(a.keys).union(b.keys).sorted() {
            let x = canonical(a[key]), y = canonical(b[key])
            if x != y { return "\(key): \(y) in the checkpoint, \(x) now" }
        }
        return nil
    }

    func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .adamw: AdamW(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
        case .sgd: SGD(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        }
    }
}

/// Examples held in memory: one tensor per sample (no batch dimension) and its class.
public struct TensorDataset: Sendable {
    public var inputs: [Tensor]
    public var labels: [Int]
    /// Multi-hot `[classes]` targets of a multi-label set (binary cross-entropy); nil for one
    /// class per sample.
    public var targets: [Tensor]?

    public init(inputs: [Tensor], labels: [Int], targets: [Tensor]? = nil) {
        precondition(inputs.count == labels.count && !inputs.isEmpty, "\(inputs.count) inputs for \(labels.count) labels")
        precondition(targets == nil || targets!.count == inputs.count, "targets for every input")
        self.inputs = inputs
        self.labels = labels
        self.targets = targets
    }

    public var count: Int { inputs.count }

    /// Samples `indices` stacked into `[n] + sampleShape`.
    func batch(_ indices: [Int]) -> (input: Tensor, labels: [Int], targets: Tensor?) {
        let parts = indices.map { inputs[$0].reshaped([1] + inputs[$0].shape) }
        let t = targets.map { all in Tensor.concatenate(indices.map { all[$0].reshaped([1, all[$0].count]) }) }
        return (Tensor.concatenate(parts), indices.map { labels[$0] }, t)
    }
}

/// What stops or refuses a training run.
public enum TrainError: Error, Equatable, LocalizedError {
    case invalidConfiguration(String)
    /// The loss or a gradient is NaN or infinite; the last good checkpoint is kept.
    case nonFinite(step: Int, what: String)
    /// A checkpoint cannot be resumed with this model or configuration.
    case resumeMismatch(path: String, reason: String)
    case unreadableCheckpoint(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .invalidConfiguration(let reason): "invalid training configuration: \(reason)"
        case .nonFinite(let step, let what): "step \(step): \(what) is not finite; training stopped, the last good checkpoint is kept"
        case .resumeMismatch(let path, let reason): "cannot resume from \(path): \(reason)"
        case .unreadableCheckpoint(let path, let reason): "cannot read checkpoint \(path): \(reason)"
        case .unwritable(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}
