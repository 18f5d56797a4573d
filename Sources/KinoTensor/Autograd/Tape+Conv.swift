extension Tape: ConvolutionContext {
    /// Saves the input, not the im2col columns (rebuilt in backward: k² less memory for k×k).
    public func convolution(_ x: Variable, weight: Variable, bias: Variable?, _ geometry: ConvolutionGeometry) -> Variable {
        let input = values[x.id], w = values[weight.id]
        let y = input.convolution(weight: w, bias: bias.map { values[$0.id] }, geometry)
        return record(y, needsGradient: needs(x) || needs(weight) || needs(bias)) { dy, tape in
            let g = Tensor.convolutionBackward(input: input, weight: w, outputGradient: dy, geometry,
                                                 needInput: tape.needs(x), needWeight: tape.needs(weight),
                                                 needBias: tape.needs(bias))
            if let dx = g.input { tape.accumulate(x, dx) }
            if let dw = g.weight { tape.accumulate(weight, dw) }
            if let bias, let db = g.bias { tape.accumulate(bias, db) }
        }
    }

    public func groupNorm(_ x: Variable, groups: Int, weight: Variable, bias: Variable, eps: Float) -> Variable {
        let input = values[x.id], gamma = values[weight.id]
        let r = Tensor.groupNorm(input, groups: groups, weight: gamma, bias: values[bias.id], eps: eps)
        return record(r.output, needsGradient: needs(x) || needs(weight) || needs(bias)) { dy, tape in
            let g = Tensor.groupNormBackward(input: input, groups: groups, weight: gamma, statistics: r.statistics,
                                             outputGradient: dy)
            tape.accumulate(x, g.input)
            tape.accumulate(weight, g.weight)
            tape.accumulate(bias, g.bias)
        }
    }

    public func upsampleNearest(_ x: Variable, factor: Int) -> Variable {
        let shape = values[x.id].shape
        return record(values[x.id].upsampledNearest(factor), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, dy.downsampledSum(factor, shape: shape))
        }
    }

    /// In a training tape the batch's statistics normalise and the running ones move, into
    /// ``bufferUpdates`` (applied by the caller after the step, so nothing changes while recording).
    public func batchNorm(_ x: Variable, weight: Variable, bias: Variable, running: BatchNormStatistics, eps: Float) -> Variable {
        let input = values[x.id], gamma = values[weight.id]
        let training = mode == .training
        let r = Tensor.batchNorm(input, weight: gamma, bias: values[bias.id], running: running, eps: eps, training: training)
        if let updated = r.updated {
            bufferUpdates[updated.meanKey] = updated.mean
            bufferUpdates[updated.varianceKey] = updated.variance
        }
        return record(r.output, needsGradient: needs(x) || needs(weight) || needs(bias)) { dy, tape in
            let g = Tensor.batchNormBackward(input: input, weight: gamma, statistics: r.statistics, training: training,
                                             outputGradient: dy)
            tape.accumulate(x, g.input)
            tape.accumulate(weight, g.weight)
            tape.accumulate(bias, g.bias)
        }
    }

    public func pixelShuffle(_ x: Variable, factor: Int, inverse: Bool) -> Variable {
        record(values[x.id].pixelShuffled(factor, inverse: inverse), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, dy.pixelShuffled(factor, inverse: !inverse))
        }
    }
}
