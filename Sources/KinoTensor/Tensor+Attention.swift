import Foundation

extension Tensor {
    /// Scaled dot-product multi-head attention without a mask, batched.
    ///
    /// Follows the Hugging Face ViT/ViViT/AST self-attention: feature `h·dh + j` of a token
    /// belongs to head `h`; scores are `q·kᵀ / sqrt(dh)`, softmax over keys, and the heads'
    /// outputs are concatenated head-major. Heads are addressed in place through BLAS row
    /// strides (no split/merge copies); work is spread over (batch, head) pairs.
    ///
    /// - Parameters:
    ///   - query: `[B, N, D]` (already projected).
    ///   - key: `[B, M, D]`.
    ///   - value: `[B, M, D]`.
    ///   - heads: `H`, dividing `D`.
    /// - Returns: `[B, N, D]`.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int) -> Tensor {
        var out = Tensor(uninitialized: query.shape)
        attention(query: query, key: key, value: value, heads: heads, into: &out, logSumExp: nil)
        return out
    }

    /// ``attention(query:key:value:heads:)`` into a caller-owned buffer.
    ///
    /// - Parameter logSumExp: when given, receives `log Σⱼ exp(sᵢⱼ)` of every score row,
    ///   `[B, H, N]`: all a backward pass needs to rebuild the probabilities block by block
    ///   (``attentionBackward``), instead of keeping the `[B, H, N, M]` matrix.
    static func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int,
                          into out: inout Tensor, logSumExp: UnsafeMutablePointer<Float>?) {
        precondition(query.rank == 3 && key.rank == 3 && value.shape == key.shape,
                     "attention q \(query.shape) k \(key.shape) v \(value.shape)")
        let b = query.shape[0], n = query.shape[1], d = query.shape[2], m = key.shape[1]
        precondition(key.shape[0] == b && key.shape[2] == d && heads > 0 && d % heads == 0,
                     "attention q \(query.shape) k \(key.shape) with \(heads) heads")
        out.resize(to: query.shape)
        let dh = d / heads
        let scale = 1 / Float(dh).squareRoot()
        // Query rows are taken in blocks so a block's scores stay in cache between the two
        // products (a 1214-token AST window would otherwise stream a 6 MB score matrix per head).
        let block = min(n, 64)
        let blocks = (n + block - 1) / block
        let tasks = b * heads * blocks
        query.storage.withUnsafeBufferPointer { pq in
            key.storage.withUnsafeBufferPointer { pk in
                value.storage.withUnsafeBufferPointer { pv in
                    out.storage.withUnsafeMutableBufferPointer { po in
                        let pq = pq.baseAddress!, pk = pk.baseAddress!, pv = pv.baseAddress!, po = po.baseAddress!
                        Parallelism.forChunks(tasks) { range in
                            // One score block per worker, reused across its tasks.
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * m)
                            defer { scores.deallocate() }
                            for task in range {
                                let pair = task / blocks, first = (task % blocks) * block
                                let rows = min(block, n - first)
                                let batch = pair / heads, head = pair % heads
                                let q = pq + (batch * n + first) * d + head * dh
                                let k = pk + batch * m * d + head * dh
                                let v = pv + batch * m * d + head * dh
                                BLAS.gemm(transposeB: true, m: rows, n: m, k: dh, alpha: scale,
                                          a: q, lda: d, b: k, ldb: d, c: scores, ldc: m)
                                for r in 0..<rows {
                                    let (peak, total) = softmaxRow(scores + r * m, m)
                                    logSumExp?[pair * n + first + r] = peak + logf(total)
                                }
                                BLAS.gemm(m: rows, n: dh, k: m, a: scores, lda: m, b: v, ldb: d,
                                          c: po + (batch * n + first) * d + head * dh, ldc: d)
                            }
                        }
                    }
                }
            }
        }
    }
}
