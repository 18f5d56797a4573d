import Foundation

extension Tensor {
    /// Gradients of ``layerNorm(weight:bias:eps:)`` from its saved row statistics.
    ///
    /// With `x̂ = (x − μ)·r` and `g = dy ⊙ γ`: `dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂))`,
    /// `dγ = Σ dy ⊙ x̂`, `dβ = Σ dy` (sums over rows, in row order).
    static func layerNormBackward(input x: Tensor, weight: Tensor, statistics: LayerNormStatistics,
                                  outputGradient dy: Tensor, needInput: Bool, needParameters: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let d = x.shape.last ?? 0
        let rows = d == 0 ? 0 : x.count / d
        var dx = needInput ? Tensor(zeros: x.shape) : nil
        if needInput {
            x.storage.withUnsafeBufferPointer { px in
            dy.storage.withUnsafeBufferPointer { pdy in
            weight.storage.withUnsafeBufferPointer { pg in
            dx!.storage.withUnsafeMutableBufferPointer { pdx in
                let px = px.baseAddress!, pdy = pdy.baseAddress!, pg = pg.baseAddress!, pdx = pdx.baseAddress!
                Parallelism.forChunks(rows, minimumChunk: 64) { range in
                    for r in range {
                        let mean = statistics.mean[r], inv = statistics.inverseStd[r]
                        let xr = px + r * d, gr = pdy + r * d, out = pdx + r * d
                        var sumG: Float = 0, sumGX: Float = 0
                        for j in 0..<d {
                            let g = gr[j] * pg[j]
                            sumG += g
                            sumGX += g * (xr[j] - mean) * inv
                        }
                        let meanG = sumG / Float(d), meanGX = sumGX / Float(d)
                        for j in 0..<d {
                            let xhat = (xr[j] - mean) * inv
                            out[j] = inv * (gr[j] * pg[j] - meanG - xhat * meanGX)
                        }
                    }
                }
            }}}}
        }
        guard needParameters else { return (dx, nil, nil) }
        var dgamma = Tensor(zeros: [d]), dbeta = Tensor(zeros: [d])
        x.storage.withUnsafeBufferPointer { px in
        dy.storage.withUnsafeBufferPointer { pdy in
        dgamma.storage.withUnsafeMutableBufferPointer { pdg in
        dbeta.storage.withUnsafeMutableBufferPointer { pdb in
            for r in 0..<rows {
                let mean = statistics.mean[r], inv = statistics.inverseStd[r]
                let xr = px.baseAddress! + r * d, gr = pdy.baseAddress! + r * d
                for j in 0..<d {
                    pdg[j] += gr[j] * (xr[j] - mean) * inv
                    pdb[j] += gr[j]
                }
            }
        }}}}
        return (dx, dgamma, dbeta)
    }
}
