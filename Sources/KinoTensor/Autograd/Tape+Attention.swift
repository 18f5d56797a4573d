extension Tape {
    /// Multi-head attention. Keys and values may come from another sequence (or carry extra
    /// prefix tokens, concatenated before the call). Only q, k, v, the output and one
    /// log-sum-exp per score row are kept; backward rebuilds the probabilities per block.
    public func attention(query: Variable, key: Variable, value: Variable, heads: Int) -> Variable {
        let q = values[query.id], k = values[key.id], v = values[value.id]
        var out = Tensor(zeros: q.shape)
        var lse = [Float](repeating: 0, count: q.shape[0] * heads * q.shape[1])
        lse.withUnsafeMutableBufferPointer { p in
            Tensor.attention(query: q, key: k, value: v, heads: heads, into: &out, logSumExp: p.baseAddress!)
        }
        let output = out
        return record(out, needsGradient: needs(query) || needs(key) || needs(value)) { dy, tape in
            let g = Tensor.attentionBackward(query: q, key: k, value: v, heads: heads, output: output,
                                             logSumExp: lse, outputGradient: dy)
            tape.accumulate(query, g.query)
            tape.accumulate(key, g.key)
            tape.accumulate(value, g.value)
        }
    }
}
