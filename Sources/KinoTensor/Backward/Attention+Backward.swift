// The FlashAttention-2 backward (Dao, 2023, Algorithm 2): probabilities are rebuilt block by
// block from q, k and the saved row log-sum-exp instead of being stored.
import Foundation

extension Tensor {
    /// Gradients of ``attention(query:key:value:heads:)`` with respect to its three inputs.
    ///
    /// Per (batch, head) and block of 64 query rows: `S = c·q kᵀ`, `P = exp(S − lse)`,
    /// `dv += Pᵀ dO`, `dP = dO vᵀ`, `dS = P ⊙ (dP − rowsum(dO ⊙ O))`, `dq = c·dS k`,
    /// `dk += c·dSᵀ q`. Work is split over (batch, head) pairs, each owning its slices of
    /// `dk`/`dv`, so the result does not depend on the worker count.
    ///
    /// - Parameters:
    ///   - output: the forward's `O`, `[B, N, D]`.
    ///   - logSumExp: the forward's row log-sum-exp, `[B·H·N]`.
    ///   - outputGradient: `dO`, `[B, N, D]`.
    /// - Returns: `dq` `[B, N, D]`, `dk` and `dv` `[B, M, D]`.
    static func attentionBackward(query: Tensor, key: Tensor, value: Tensor, heads: Int, output: Tensor,
                                  logSumExp: [Float], outputGradient: Tensor)
        -> (query: Tensor, key: Tensor, value: Tensor) {
        let b = query.shape[0], n = query.shape[1], d = query.shape[2], m = key.shape[1]
        let dh = d / heads
        let scale = 1 / Float(dh).squareRoot()
        let block = min(n, 64)
        var dq = Tensor(zeros: query.shape), dk = Tensor(zeros: key.shape), dv = Tensor(zeros: value.shape)
        // D_i = Σ_j dO_ij · O_ij per head row.
        var rowDot = [Float](repeating: 0, count: b * heads * n)
        for batch in 0..<b {
            for i in 0..<n {
                let base = (batch * n + i) * d
                for head in 0..<heads {
                    var s: Float = 0
                    for j in 0..<dh { s += outputGradient.storage[base + head * dh + j] * output.storage[base + head * dh + j] }
                    rowDot[(batch * heads + head) * n + i] = s
                }
            }
        }
        query.storage.withUnsafeBufferPointer { pq in
        key.storage.withUnsafeBufferPointer { pk in
        value.storage.withUnsafeBufferPointer { pv in
        outputGradient.storage.withUnsafeBufferPointer { pdo in
        logSumExp.withUnsafeBufferPointer { plse in
        rowDot.withUnsafeBufferPointer { pdot in
        dq.storage.withUnsafeMutableBufferPointer { pdq in
        dk.storage.withUnsafeMutableBufferPointer { pdk in
        dv.storage.withUnsafeMutableBufferPointer { pdv in
            let pq = pq.baseAddress!, pk = pk.baseAddress!, pv = pv.baseAddress!, pdo = pdo.baseAddress!
            let plse = plse.baseAddress!, pdot = pdot.baseAddress!
            let pdq = pdq.baseAddress!, pdk = pdk.baseAddress!, pdv = pdv.baseAddress!
            Parallelism.forChunks(b * heads) { pairs in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: block * m)
                let dp = UnsafeMutablePointer<Float>.allocate(capacity: block * m)
                defer { p.deallocate(); dp.deallocate() }
                for pair in pairs {
                    let batch = pair / heads, head = pair % heads
                    let k = pk + batch * m * d + head * dh, v = pv + batch * m * d + head * dh
                    let gk = pdk + batch * m * d + head * dh, gv = pdv + batch * m * d + head * dh
                    var first = 0
                    while first < n {
                        let rows = min(block, n - first)
                        let q = pq + (batch * n + first) * d + head * dh
                        let gout = pdo + (batch * n + first) * d + head * dh
                        BLAS.gemm(transposeB: true, m: rows, n: m, k: dh, alpha: scale, a: q, lda: d, b: k, ldb: d,
                                  c: p, ldc: m)
                        for r in 0..<rows {
                            let lse = plse[pair * n + first + r]
                            let row = p + r * m
                            var j = 0
                            let raw = UnsafeMutableRawPointer(row)
                            while j + 8 <= m {
                                let s = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                                raw.storeBytes(of: SIMDMath.exp(s - lse), toByteOffset: j * 4, as: SIMD8<Float>.self)
                                j += 8
                            }
                            while j < m { row[j] = expf(row[j] - lse); j += 1 }
                        }
                        // dv += Pᵀ dO
                        BLAS.gemm(transposeA: true, m: m, n: dh, k: rows, a: p, lda: m, b: gout, ldb: d,
                                  beta: 1, c: gv, ldc: d)
                        // dP = dO vᵀ
                        BLAS.gemm(transposeB: true, m: rows, n: m, k: dh, a: gout, lda: d, b: v, ldb: d, c: dp, ldc: m)
                        for r in 0..<rows {
                            let dot = pdot[pair * n + first + r]
                            let pr = p + r * m, dr = dp + r * m
                            for j in 0..<m { dr[j] = pr[j] * (dr[j] - dot) }
                        }
                        // dq = c·dS k ; dk += c·dSᵀ q
                        BLAS.gemm(m: rows, n: dh, k: m, alpha: scale, a: dp, lda: m, b: k, ldb: d,
                                  c: pdq + (batch * n + first) * d + head * dh, ldc: d)
                        BLAS.gemm(transposeA: true, m: m, n: dh, k: rows, alpha: scale, a: dp, lda: m, b: q, ldb: d,
                                  beta: 1, c: gk, ldc: d)
                        first += rows
                    }
                }
            }
        }}}}}}}}}
        return (dq, dk, dv)
    }
}
