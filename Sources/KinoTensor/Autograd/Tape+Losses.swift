extension Tape {
    /// Records a scalar loss whose gradient with respect to `input` was computed with it.
    private func loss(_ value: Float, of input: Variable, gradient: Tensor) -> Variable {
        record(Tensor(shape: [1], values: [value]), needsGradient: needs(input)) { dy, tape in
            tape.accumulate(input, dy.storage[0] == 1 ? gradient : gradient.scaled(by: dy.storage[0]))
        }
    }

    public func crossEntropy(_ logits: Variable, labels: [Int], labelSmoothing: Float, divisor: Int?) -> Variable {
        let r = Tensor.crossEntropy(logits: values[logits.id], labels: labels, labelSmoothing: labelSmoothing, divisor: divisor)
        return loss(r.loss, of: logits, gradient: r.gradient)
    }

    public func binaryCrossEntropy(_ logits: Variable, targets: Tensor, divisor: Int?) -> Variable {
        let r = Tensor.binaryCrossEntropy(logits: values[logits.id], targets: targets, divisor: divisor)
        return loss(r.loss, of: logits, gradient: r.gradient)
    }

    public func meanSquaredError(_ x: Variable, target: Tensor, weights: Tensor?, divisor: Int?) -> Variable {
        let r = Tensor.meanSquaredError(values[x.id], target: target, weights: weights, divisor: divisor)
        return loss(r.loss, of: x, gradient: r.gradient)
    }
}
