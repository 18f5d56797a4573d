import Foundation

extension Tensor {
    /// `dW = dYᵀ·X` for `y = x·Wᵀ`: `[out, in]` from `dY` `[…, out]` and `X` `[…, in]`.
    ///
    /// Split over output rows, each computed over all of the batch by one sgemm, so the sum
    /// order over rows (and the bits) do not depend on the worker count.
    static func weightGradient(outputGradient dy: Tensor, input x: Tensor) -> Tensor {
        let out = dy.shape[dy.rank - 1], inner = x.shape[x.rank - 1]
        let rows = dy.count / max(1, out)
        precondition(x.count / max(1, inner) == rows, "weight gradient dY \(dy.shape) X \(x.shape)")
        var dw = Tensor(zeros: [out, inner])
        guard rows > 0 else { return dw }
        dy.storage.withUnsafeBufferPointer { pdy in
            x.storage.withUnsafeBufferPointer { px in
                dw.storage.withUnsafeMutableBufferPointer { pdw in
                    let pdy = pdy.baseAddress!, px = px.baseAddress!, pdw = pdw.baseAddress!
                    Parallelism.forChunks(out, minimumChunk: 16) { range in
                        BLAS.gemm(transposeA: true, m: range.count, n: inner, k: rows,
                                  a: pdy + range.lowerBound, lda: out, b: px, ldb: inner,
                                  c: pdw + range.lowerBound * inner, ldc: inner)
                    }
                }
            }
        }
        return dw
    }

    /// Sum over every leading dimension: `[…, D]` → `[D]` (a bias gradient), rows in order.
    func sumRows() -> Tensor {
        let d = shape.last ?? 0
        var out = Tensor(zeros: [d])
        guard d > 0 else { return out }
        let rows = count / d
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows { Tensor.simdAdd(dst.baseAddress!, src.baseAddress! + r * d, d) }
            }
        }
        return out
    }

    /// Sum of blocks of `size` elements in order: `[B·size]` → `[size]` (a gradient of a broadcast add).
    func sumRepeats(of size: Int, shape target: [Int]) -> Tensor {
        var out = Tensor(zeros: target)
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for r in 0..<(count / max(1, size)) { Tensor.simdAdd(dst.baseAddress!, src.baseAddress! + r * size, size) }
            }
        }
        return out
    }
}
