extension Tape {
    public func activation(_ x: Variable, _ function: Activation) -> Variable {
        let input = values[x.id]
        return record(input.applying(function), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, Tensor.activationBackward(input: input, outputGradient: dy, function))
        }
    }

    public func add(_ a: Variable, _ b: Variable) -> Variable {
        let shapeB = values[b.id].shape, countB = values[b.id].count, countA = values[a.id].count
        return record(values[a.id].adding(values[b.id]), needsGradient: needs(a) || needs(b)) { dy, tape in
            tape.accumulate(a, dy)
            if tape.needs(b) {
                tape.accumulate(b, countB == countA ? dy.reshaped(shapeB) : dy.sumRepeats(of: countB, shape: shapeB))
            }
        }
    }

    public func multiply(_ a: Variable, _ b: Variable) -> Variable {
        let x = values[a.id], y = values[b.id]
        return record(x.multiplying(y), needsGradient: needs(a) || needs(b)) { dy, tape in
            if tape.needs(a) { tape.accumulate(a, dy.multiplying(y)) }
            if tape.needs(b) {
                let full = dy.multiplying(Tensor(shape: dy.shape, values: x.storage))
                tape.accumulate(b, y.count == x.count ? full.reshaped(y.shape) : full.sumRepeats(of: y.count, shape: y.shape))
            }
        }
    }

    public func scale(_ x: Variable, by factor: Float) -> Variable {
        record(values[x.id].scaled(by: factor), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, dy.scaled(by: factor))
        }
    }

    /// Softmax over the last dimension. Backward per row: `dz = p ⊙ (dp − Σ dp ⊙ p)`.
    public func softmax(_ x: Variable) -> Variable {
        let p = values[x.id].softmax()
        return record(p, needsGradient: needs(x)) { dy, tape in
            let d = p.shape.last ?? 1
            var dz = dy
            for r in 0..<(p.count / max(1, d)) {
                var dot: Float = 0
                for j in 0..<d { dot += dy.storage[r * d + j] * p.storage[r * d + j] }
                for j in 0..<d { dz.storage[r * d + j] = p.storage[r * d + j] * (dy.storage[r * d + j] - dot) }
            }
            tape.accumulate(x, dz)
        }
    }

    /// Inverted dropout with a mask drawn from ``random`` in training mode.
    public func dropout(_ x: Variable, rate: Float) -> Variable {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        guard mode == .training, rate > 0 else { return x }
        let input = values[x.id]
        let keep = 1 / (1 - rate)
        var mask = Tensor(zeros: input.shape)
        for i in 0..<mask.count { mask.storage[i] = random.nextUniform() < Double(rate) ? 0 : keep }
        let m = mask
        return record(input.multiplying(m), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, dy.multiplying(m))
        }
    }

    /// `sign(x)·scale` forward, the identity backward: the straight-through estimator
    /// (Bengio et al. 2013) that binary adapters train through.
    public func straightThroughSign(_ x: Variable) -> Variable {
        var y = values[x.id]
        for i in 0..<y.count { y.storage[i] = y.storage[i] >= 0 ? 1 : -1 }
        return record(y, needsGradient: needs(x)) { dy, tape in tape.accumulate(x, dy) }
    }
}
