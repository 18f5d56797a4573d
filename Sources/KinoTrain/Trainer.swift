// The training loop: data-parallel gradient shards, one optimiser, atomic checkpoints and a
// resume that continues the same trajectory bit for bit.
import Foundation
import KinoModels
import KinoOptim
import KinoTensor

/// What one step reports.
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Float
    public var learningRate: Float
    public var gradientNorm: Float?
}

/// The JSON state beside a checkpoint's weights.
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimiser steps completed.
    public var step: Int
    /// Samples consumed in total (epoch and position follow from it).
    public var samplesSeen: Int
    public var configuration: TrainingConfiguration
    /// The base model the trainable weights sit on (caller-defined, e.g. a content hash).
    public var baseFingerprint: String
    /// Keys and shapes of the trainable parameters.
    public var trainable: [String: [Int]]
    public var losses: [Float]
}

/// One shard's loss, parameter gradients and updated batch-norm statistics.
struct ShardResult: Sendable {
    var loss: Float
    var gradients: Gradients
    var buffers: [String: Tensor]
}

/// Trains the trainable parameters of a model on an in-memory dataset.
///
/// Batches are drawn from a per-epoch permutation derived from the seed (stream
/// `data-order-<epoch>`), dropout from stream `dropout-<step>-<shard>`: both are functions of the
/// position, so a resumed run draws exactly what the uninterrupted run would have.
public struct Trainer<Model: KinoModel> {
    public internal(set) var model: Model
    public let configuration: TrainingConfiguration
    public let dataset: TensorDataset
    public let baseFingerprint: String
    /// Worker threads for gradient shards.
    public var workers: Int
    public private(set) var optimizer: any Optimizer
    public private(set) var ema: ExponentialMovingAverage?
    public private(set) var step = 0
    public private(set) var samplesSeen = 0
    public private(set) var losses: [Float] = []
    /// Changes one training sample before it is batched (SpecAugment, crops); gets its own
    /// random stream per step and sample (`augment-<step>-<sample>`), so resuming redraws it.
    public var augment: (@Sendable (Tensor, inout SplitMix64Source) -> Tensor)?
    /// Label-changing transforms applied after ``augment`` on the same stream (single-label
    /// runs only: a mirrored `pan-left` clip is trained as `pan-right`).
    public var symmetries: [LabelSymmetry] = []

    public init(model: Model, configuration: TrainingConfiguration, dataset: TensorDataset,
                baseFingerprint: String, workers: Int = 1) throws {
        guard configuration.batchSize > 0, configuration.shardSize > 0, configuration.steps >= 0,
              configuration.checkpointEvery > 0, configuration.keepCheckpoints > 0 else {
            throw TrainError.invalidConfiguration("batch size, shard size, checkpoint interval and kept checkpoints must be positive")
        }
        guard model.trainableParameterCount > 0 else { throw TrainError.invalidConfiguration("the model has no trainable parameter") }
        self.model = model
        self.configuration = configuration
        self.dataset = dataset
        self.baseFingerprint = baseFingerprint
        self.workers = max(1, workers)
        self.optimizer = configuration.makeOptimizer()
        self.ema = configuration.emaDecay.map { ExponentialMovingAverage(decay: $0) }
    }

    /// Sample indices of the next batch, crossing epoch boundaries.
    func batchIndices() -> [Int] {
        let n = dataset.count
        var out: [Int] = []
        var position = samplesSeen
        var cachedEpoch = -1
        var order: [Int] = []
        while out.count < configuration.batchSize {
            let epoch = position / n
            if epoch != cachedEpoch {
                cachedEpoch = epoch
                var random = SplitMix64Source.stream("data-order-\(epoch)", seed: configuration.seed)
                order = configuration.shuffle ? random.permutation(n) : Array(0..<n)
            }
            out.append(order[position % n])
            position += 1
        }
        return out
    }

    /// Loss and gradients of one shard on its own tape (kernels single-threaded inside).
    static func shardGradients(model: Model, input: Tensor, labels: [Int], targets: Tensor?, divisor: Int,
                               configuration: TrainingConfiguration, random: SplitMix64Source) -> ShardResult {
        Parallelism.withWorkers(1) {
            let tape = Tape(mode: .training, random: random)
            var c = tape
            let logits = model.forward(c.constant(input), in: &c).logits!
            let loss: Tape.Variable
            switch configuration.loss {
            case .crossEntropy:
                loss = c.crossEntropy(logits, labels: labels, labelSmoothing: configuration.labelSmoothing, divisor: divisor)
            case .binaryCrossEntropy:
                var hot = Tensor(zeros: c.tensor(logits).shape)
                let classes = hot.shape[1]
                if let targets { hot = targets } else {
                    for (i, label) in labels.enumerated() { hot.storage[i * classes + label] = 1 }
                }
                loss = c.binaryCrossEntropy(logits, targets: hot, divisor: divisor * classes)
            }
            let gradients = tape.backward(from: loss)
            return ShardResult(loss: tape.tensor(loss).storage[0], gradients: gradients, buffers: tape.bufferUpdates)
        }
    }

    /// Runs one optimiser step.
    /// - Throws: ``TrainError/nonFinite(step:what:)`` before touching the weights.
    @discardableResult
    public mutating func trainStep() throws -> StepRecord {
        let indices = batchIndices()
        let shardSize = configuration.shardSize
        let shards = stride(from: 0, to: indices.count, by: shardSize).map { Array(indices[$0 ..< min(indices.count, $0 + shardSize)]) }
        var results = [ShardResult?](repeating: nil, count: shards.count)
        let (model, configuration, dataset, step, augment) = (self.model, self.configuration, self.dataset, self.step, self.augment)
        let symmetries = dataset.targets == nil ? self.symmetries : []
        let divisor = indices.count
        let work: @Sendable (Int) -> ShardResult = { s in
            var batch = dataset.batch(shards[s])
            if augment != nil || !symmetries.isEmpty {
                let shape = Array(batch.input.shape.dropFirst()), n = shape.reduce(1, *)
                var parts: [Tensor] = []
                for (j, _) in shards[s].enumerated() {
                    var random = SplitMix64Source.stream("augment-\(step)-\(s * shardSize + j)", seed: configuration.seed)
                    var sample = Tensor(shape: shape, values: Array(batch.input.storage[j * n ..< (j + 1) * n]))
                    if let augment { sample = augment(sample, &random) }
                    if !symmetries.isEmpty {
                        (sample, batch.labels[j]) = Augmentation.symmetries(sample, label: batch.labels[j], symmetries, random: &random)
                    }
                    parts.append(sample.reshaped([1] + shape))
                }
                batch.input = Tensor.concatenate(parts)
            }
            return Self.shardGradients(model: model, input: batch.input, labels: batch.labels, targets: batch.targets, divisor: divisor,
                                       configuration: configuration,
                                       random: SplitMix64Source.stream("dropout-\(step)-\(s)", seed: configuration.seed))
        }
        if workers == 1 || shards.count == 1 {
            for s in shards.indices { results[s] = work(s) }
        } else {
            let lock = NSLock()
            nonisolated(unsafe) var shared = results
            let chunks = min(workers, shards.count)
            DispatchQueue.concurrentPerform(iterations: chunks) { w in
                for s in stride(from: w, to: shards.count, by: chunks) {
                    let r = work(s)
                    lock.lock(); shared[s] = r; lock.unlock()
                }
            }
            results = shared
        }
        // Reduce in shard order.
        var loss: Float = 0
        var gradients: Gradients = [:]
        var buffers: [String: Tensor] = [:]
        for r in results {
            let r = r!
            loss += r.loss
            for (key, t) in r.gradients {
                if gradients[key] == nil { gradients[key] = t } else { gradients[key]!.add(t) }
            }
            for (key, t) in r.buffers {
                if buffers[key] == nil { buffers[key] = t } else { buffers[key]!.add(t) }
            }
        }
        // Running statistics: each shard normalises by its own batch (as data-parallel PyTorch
        // without synchronised batch norm); the running ones take the shards' mean update.
        for key in buffers.keys { buffers[key] = buffers[key]!.scaled(by: 1 / Float(results.count)) }
        guard loss.isFinite else { throw TrainError.nonFinite(step: step + 1, what: "the loss (\(loss))") }
        for p in model.allParameters where p.isTrainable {
            if let g = gradients[p.key], g.storage.contains(where: { !$0.isFinite }) {
                throw TrainError.nonFinite(step: step + 1, what: "the gradient of \(p.key)")
            }
        }
        var norm: Float?
        if let maximum = configuration.clipNorm { norm = clipGradientNorm(&gradients, maximum: maximum) }
        let lr = configuration.schedule(step)
        optimizer.update(&self.model, gradients: gradients, learningRate: lr)
        if !buffers.isEmpty { try self.model.updateBuffers(buffers) }
        ema?.update(from: self.model)
        self.step += 1
        samplesSeen += indices.count
        losses.append(loss)
        return StepRecord(step: self.step, loss: loss, learningRate: lr, gradientNorm: norm)
    }

    /// Trains to ``TrainingConfiguration/steps``, checkpointing into `directory` (when given)
    /// every ``TrainingConfiguration/checkpointEvery`` steps and at the end.
    ///
    /// - Parameters:
    ///   - until: stop earlier, after this many steps in total (for tests and interruptions).
    ///   - shouldStop: asked after each step; a `true` writes a checkpoint and returns.
    ///   - onStep: called after each step.
    public mutating func run(directory: String?, until: Int? = nil, shouldStop: () -> Bool = { false },
                             onStep: (StepRecord) -> Void = { _ in }) throws {
        let last = min(configuration.steps, until ?? configuration.steps)
        while step < last {
            let record = try trainStep()
            onStep(record)
            let stop = shouldStop()
            if let directory, step % configuration.checkpointEvery == 0 || step == last || stop {
                try saveCheckpoint(in: directory)
            }
            if stop { return }
        }
    }

    var state: TrainerState {
        TrainerState(step: step, samplesSeen: samplesSeen, configuration: configuration, baseFingerprint: baseFingerprint,
                     trainable: Dictionary(uniqueKeysWithValues: model.allParameters.filter(\.isTrainable).map { ($0.key, $0.shape) }),
                     losses: losses)
    }

    mutating func restore(_ saved: TrainerState, trainable: [String: Tensor], optimizerState: [String: Tensor],
                          ema emaState: [String: Tensor]?, path: String) throws {
        if saved.baseFingerprint != baseFingerprint {
            throw TrainError.resumeMismatch(path: path, reason: "base model fingerprint \(saved.baseFingerprint) in the checkpoint, \(baseFingerprint) now")
        }
        if let difference = configuration.firstDifference(from: saved.configuration) {
            throw TrainError.resumeMismatch(path: path, reason: "configuration differs: \(difference)")
        }
        let expected = state.trainable
        if saved.trainable != expected {
            let names = Set(saved.trainable.keys).symmetricDifference(expected.keys).sorted()
            throw TrainError.resumeMismatch(path: path, reason: "trainable parameters differ"
                                            + (names.isEmpty ? " in shape" : ": " + names.prefix(5).joined(separator: ", ")))
        }
        do {
            try model.update(from: trainable)
        } catch {
            throw TrainError.resumeMismatch(path: path, reason: (error as? any LocalizedError)?.errorDescription ?? "\(error)")
        }
        try optimizer.restore(step: saved.step, tensors: optimizerState)
        if let emaState { ema?.restore(emaState) }
        step = saved.step
        samplesSeen = saved.samplesSeen
        losses = saved.losses
    }
}
