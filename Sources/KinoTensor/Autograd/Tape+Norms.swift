extension Tape {
    /// Layer norm; the forward keeps its row statistics for the backward.
    public func layerNorm(_ x: Variable, weight: Variable, bias: Variable, eps: Float) -> Variable {
        let input = values[x.id], gamma = values[weight.id]
        var y = Tensor(zeros: input.shape)
        let statistics = input.layerNorm(weight: gamma, bias: values[bias.id], eps: eps, into: &y, keepStatistics: true)!
        return record(y, needsGradient: needs(x) || needs(weight) || needs(bias)) { dy, tape in
            let g = Tensor.layerNormBackward(input: input, weight: gamma, statistics: statistics, outputGradient: dy,
                                             needInput: tape.needs(x), needParameters: tape.needs(weight) || tape.needs(bias))
            if let dx = g.input { tape.accumulate(x, dx) }
            if let dw = g.weight { tape.accumulate(weight, dw) }
            if let db = g.bias { tape.accumulate(bias, db) }
        }
    }
}
