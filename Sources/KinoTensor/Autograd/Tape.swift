// Reverse-mode differentiation over coarse operations (the tape of micrograd and tinygrad, with
// Kino's fused kernels as the recorded ops and a hand-written gradient rule beside each).

/// Records a forward pass so that ``backward(from:)`` can return the gradient of a scalar with
/// respect to every trainable parameter (and any input that asked for one).
///
/// One tape per step, driven by one thread (the kernels parallelise inside). Creation order is
/// topological, so backward is one reverse loop. A node gets a pullback only when one of its
/// inputs needs a gradient: frozen weights are constants, nothing below the lowest trainable
/// parameter runs backward, and a frozen layer's weight product is skipped.
public final class Tape: TensorContext {
    /// A value on the tape.
    public struct Variable: Sendable {
        public let id: Int
    }

    /// Whether dropout is active. Training mode lives in the context, not in the model.
    public enum Mode: String, Sendable, Codable {
        case training, evaluation
    }

    public typealias Value = Variable
    /// Sends the gradient of a node's output to its inputs through ``Tape/accumulate(_:_:)``.
    typealias Pullback = (_ gradient: Tensor, _ tape: Tape) -> Void

    public let mode: Mode
    /// Draws dropout masks; its state moves on as masks are drawn.
    public var random: SplitMix64Source
    var values: [Tensor] = []
    var needsGradient: [Bool] = []
    var pullbacks: [Pullback?] = []
    var gradients: [Tensor?] = []
    /// Leaves whose gradient is returned: parameters by key, inputs by their own id.
    var parameterKeys: [Int: String] = [:]
    var retained: Set<Int> = []
    /// New values of buffers (batch-norm running statistics) by key, for the caller to apply
    /// after the step.
    public internal(set) var bufferUpdates: [String: Tensor] = [:]
    /// Parameter gradients produced inside checkpointed segments, merged into the result.
    var segmentGradients: Gradients = [:]

    public init(mode: Mode = .training, random: SplitMix64Source = SplitMix64Source(seed: 0)) {
        self.mode = mode
        self.random = random
    }

    /// Number of recorded values.
    public var count: Int { values.count }

    public func tensor(_ value: Variable) -> Tensor { values[value.id] }

    func record(_ value: Tensor, needsGradient needs: Bool = false, _ pullback: Pullback? = nil) -> Variable {
        values.append(value)
        needsGradient.append(needs)
        pullbacks.append(needs ? pullback : nil)
        gradients.append(nil)
        return Variable(id: values.count - 1)
    }

    func needs(_ v: Variable) -> Bool { needsGradient[v.id] }
    func needs(_ v: Variable?) -> Bool { v.map { needsGradient[$0.id] } ?? false }

    /// Adds `gradient` to the gradient of `v` (when `v` needs one).
    func accumulate(_ v: Variable, _ gradient: Tensor) {
        guard needsGradient[v.id] else { return }
        if gradients[v.id] == nil {
            gradients[v.id] = gradient
        } else {
            gradients[v.id]!.add(gradient)
        }
    }

    public func constant(_ tensor: Tensor) -> Variable { record(tensor) }

    /// An input whose gradient ``backward(from:)`` keeps (read it with ``gradient(of:)``).
    public func input(_ tensor: Tensor, requiresGradient: Bool) -> Variable {
        let v = record(tensor, needsGradient: requiresGradient, nil)
        if requiresGradient { retained.insert(v.id) }
        return v
    }

    public func parameter(_ parameter: Parameter) -> Variable {
        let v = record(parameter.value, needsGradient: parameter.isTrainable, nil)
        if parameter.isTrainable { parameterKeys[v.id] = parameter.key }
        return v
    }

    /// Runs the recorded pullbacks from `loss` (a one-element value, seeded with 1) down to the
    /// first node that needs a gradient, and returns the gradients of the trainable parameters by
    /// key (a key used twice gets the sum). Gradients of other nodes are freed as soon as used,
    /// and afterwards every recorded value but the loss and the retained inputs: read
    /// intermediate values before calling this. A tape runs backward once.
    public func backward(from loss: Variable) -> Gradients {
        precondition(values[loss.id].count == 1, "backward from a value of shape \(values[loss.id].shape), not a scalar")
        return backward(from: loss, seed: Tensor(repeating: 1, shape: values[loss.id].shape))
    }

    /// ``backward(from:)`` seeded with `seed` (the gradient of some scalar with respect to `output`).
    func backward(from loss: Variable, seed: Tensor) -> Gradients {
        precondition(pullbacks.count == values.count, "backward ran on this tape already")
        var result: Gradients = [:]
        guard needsGradient[loss.id] else { return result }
        gradients[loss.id] = seed
        for id in stride(from: loss.id, through: 0, by: -1) {
            guard let gradient = gradients[id] else { continue }
            if let pullback = pullbacks[id] {
                pullback(gradient, self)
                if !retained.contains(id) { gradients[id] = nil }
                pullbacks[id] = nil
                // Its consumers' pullbacks have all run (they come later on the tape), so this
                // drops the last reference to the activation: memory falls as backward proceeds.
                if id != loss.id { values[id] = Tensor(zeros: [0]) }
            } else if let key = parameterKeys[id] {
                if result[key] == nil { result[key] = gradient } else { result[key]!.add(gradient) }
                gradients[id] = nil
            }
        }
        // Drop every other reference the tape holds (parameters and constants included), so an
        // optimiser updating the weights right after finds them uniquely owned and does not copy.
        for id in values.indices where id != loss.id && !retained.contains(id) { values[id] = Tensor(zeros: [0]) }
        pullbacks = []
        for (key, g) in segmentGradients.sorted(by: { $0.key < $1.key }) {
            if result[key] == nil { result[key] = g } else { result[key]!.add(g) }
        }
        return result
    }

    /// The gradient of an ``input(_:requiresGradient:)`` after ``backward(from:)``.
    public func gradient(of v: Variable) -> Tensor? { gradients[v.id] }

    public func withoutGradient(_ name: String, _ inputs: [Variable], _ body: ([Tensor]) -> Tensor) -> Variable {
        precondition(!inputs.contains { needs($0) },
                     "\(name) has no gradient rule: it cannot be recorded with an input that needs a gradient")
        return record(body(inputs.map { values[$0.id] }))
    }

    public func stopGradient(_ x: Variable) -> Variable { record(values[x.id]) }

    public func checkpointed(_ inputs: [Variable], _ body: @escaping (inout Tape, [Variable]) -> Variable) -> Variable {
        let tensors = inputs.map { values[$0.id] }
        let wanted = inputs.map { needs($0) }
        let start = random
        // First run: forward only, its intermediates dropped with the inner tape.
        var inner = Tape(mode: mode, random: start)
        let innerInputs = zip(tensors, wanted).map { inner.input($0, requiresGradient: $1) }
        let out = body(&inner, innerInputs)
        random = inner.random
        let trainable = !inner.parameterKeys.isEmpty
        for (k, v) in inner.bufferUpdates { bufferUpdates[k] = v }
        let value = inner.values[out.id]
        let replay = { (mode: Mode) -> Tape in Tape(mode: mode, random: start) }
        return record(value, needsGradient: wanted.contains(true) || trainable) { dy, tape in
            // Second run, recorded, then backward from the segment's output.
            var again = replay(tape.mode)
            let vars = zip(tensors, wanted).map { again.input($0, requiresGradient: $1) }
            let y = body(&again, vars)
            guard again.needsGradient[y.id] else { return }
            let grads = again.backward(from: y, seed: dy)
            for (i, v) in inputs.enumerated() where wanted[i] {
                if let g = again.gradient(of: vars[i]) { tape.accumulate(v, g) }
            }
            for (key, g) in grads {
                if tape.segmentGradients[key] == nil { tape.segmentGradients[key] = g } else { tape.segmentGradients[key]!.add(g) }
            }
        }
    }
}
