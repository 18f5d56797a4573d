extension Tape {
    /// `y = x·Wᵀ + b`. Backward: `dx = dy·W`, `dW = dyᵀ·x`, `db = Σ dy`, each only when needed.
    public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        let input = values[x.id], w = values[weight.id]
        let y = input.linear(weight: w, bias: bias.map { values[$0.id] })
        return record(y, needsGradient: needs(x) || needs(weight) || needs(bias)) { dy, tape in
            if tape.needs(x) { tape.accumulate(x, dy.matmul(w)) }
            if tape.needs(weight) { tape.accumulate(weight, Tensor.weightGradient(outputGradient: dy, input: input)) }
            if let bias, tape.needs(bias) { tape.accumulate(bias, dy.sumRows()) }
        }
    }

    /// `y = x·W`, `W` `[K, N]`. Backward: `dx = dy·Wᵀ`, `dW = xᵀ·dy`.
    public func matmul(_ x: Variable, _ w: Variable) -> Variable {
        let input = values[x.id], matrix = values[w.id]
        return record(input.matmul(matrix), needsGradient: needs(x) || needs(w)) { dy, tape in
            if tape.needs(x) { tape.accumulate(x, dy.matmul(matrix, transposeOther: true)) }
            if tape.needs(w) { tape.accumulate(w, Tensor.weightGradient(outputGradient: input, input: dy)) }
        }
    }
}
