import COpenBLAS
import Foundation

/// How many workers Kino's own loops split work across (OpenBLAS itself stays single-threaded).
///
/// Set it once before heavy work; benchmarks set it to match the reference's thread count.
public enum Parallelism {
    nonisolated(unsafe) private static var configured = ProcessInfo.processInfo.activeProcessorCount
    /// Per-thread override set by ``withWorkers(_:_:)`` (worker count + 1, 0 = none).
    private static let overrideKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Workers used by ``forEach(_:_:)`` and the row-split matrix products; at least 1.
    ///
    /// The process-wide default; a thread inside ``withWorkers(_:_:)`` sees its own value instead.
    public static var workers: Int {
        get {
            let local = Int(bitPattern: pthread_getspecific(overrideKey))
            return local > 0 ? local - 1 : configured
        }
        set { configured = max(1, newValue) }
    }

    /// Runs `body` with ``workers`` reading `count` on this thread only, so a data-parallel trainer
    /// can run each batch shard's kernels serially on its own core without touching the default.
    public static func withWorkers<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(overrideKey)
        pthread_setspecific(overrideKey, UnsafeRawPointer(bitPattern: max(1, count) + 1))
        defer { pthread_setspecific(overrideKey, previous) }
        return try body()
    }

    /// Runs `body(i)` for `i` in `0..<count`, spread over ``workers`` threads.
    ///
    /// Serial when there is one item or one worker, so tiny calls pay nothing for Dispatch.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || workers == 1 {
            for i in 0..<count { body(i) }
        } else {
            withoutActuallyEscaping(body) { body in
                let shared = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
            }
        }
    }

    /// Splits `0..<count` into at most ``workers`` contiguous ranges and runs them in parallel.
    public static func forChunks(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(workers, count / max(1, minimumChunk)))
        if parts == 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = count * p / parts, hi = count * (p + 1) / parts
                if hi > lo { shared.value(lo..<hi) }
            }
        }
    }
}

/// Carries a closure into `concurrentPerform`, which wants `@Sendable`; the callers hand it
/// disjoint output ranges, which is what makes the sharing safe.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension BLAS {
    /// `C = alpha·op(A)·op(B) + beta·C` on row-major buffers, one OpenBLAS call.
    ///
    /// - Parameters:
    ///   - transposeA: use `Aᵀ` (A stored `k × m`) instead of `A` (`m × k`).
    ///   - transposeB: use `Bᵀ` (B stored `n × k`) instead of `B` (`k × n`).
    ///   - lda/ldb/ldc: row strides in elements, so heads and column blocks can be addressed in place.
    @inline(__always)
    package static func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Tensor {
    /// Matrix product over the last dimension of `self` and the first of `other`.
    ///
    /// `self` is `[…, M, K]` (leading dimensions folded into rows), `other` is `[K, N]`,
    /// or `[N, K]` with `transposeOther`. The result is `[…, M, N]`.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) -> Tensor {
        precondition(rank >= 1 && other.rank == 2, "matmul \(shape) × \(other.shape)")
        let k = shape[rank - 1]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        precondition((transposeOther ? other.shape[1] : other.shape[0]) == k,
                     "matmul \(shape) × \(other.shape)\(transposeOther ? "ᵀ" : "")")
        var out = Tensor(uninitialized: Array(shape.dropLast()) + [n])
        Tensor.rowSplitGEMM(self, other, transposeOther: transposeOther, bias: nil, into: &out)
        return out
    }

    /// A fully connected layer as PyTorch's `nn.Linear`: `y = x·Wᵀ + b`.
    ///
    /// - Parameters:
    ///   - weight: `[out, in]`, PyTorch's layout.
    ///   - bias: `[out]` or `nil`.
    /// - Returns: `[…, out]` for `self` of shape `[…, in]`.
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        var out = Tensor(uninitialized: Array(shape.dropLast()) + [weight.shape[0]])
        linear(weight: weight, bias: bias, into: &out)
        return out
    }

    /// ``linear(weight:bias:)`` into a caller-owned buffer, reshaped as needed (no reallocation
    /// when its element count already fits).
    public func linear(weight: Tensor, bias: Tensor?, into out: inout Tensor) {
        precondition(weight.rank == 2 && weight.shape[1] == shape.last, "linear \(shape) with weight \(weight.shape)")
        precondition(bias == nil || bias!.count == weight.shape[0], "bias \(bias!.shape) for weight \(weight.shape)")
        out.resize(to: Array(shape.dropLast()) + [weight.shape[0]])
        Tensor.rowSplitGEMM(self, weight, transposeOther: true, bias: bias, into: &out)
    }

    /// Makes the tensor `newShape`, keeping storage when the count is unchanged.
    public mutating func resize(to newShape: [Int]) {
        let needed = newShape.reduce(1, *)
        if storage.count != needed { storage = [Float](repeating: 0, count: needed) }
        shape = newShape
    }

    /// Rows (or, for wide outputs, column blocks) split over workers, one single-threaded sgemm
    /// each; bias pre-filled into C.
    static func rowSplitGEMM(_ a: Tensor, _ b: Tensor, transposeOther: Bool, bias: Tensor?, into out: inout Tensor) {
        let k = a.shape[a.rank - 1]
        let n = out.shape[out.rank - 1]
        let m = a.count / max(1, k)
        guard m > 0, n > 0 else { return }
        let ldb = b.shape[1]
        // Chunks of at least 64 rows: below that the per-call overhead outweighs the second core.
        let minimumRows = max(16, 64 * 64 * 64 / max(1, n * k))
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                out.storage.withUnsafeMutableBufferPointer { pc in
                    let pa = pa.baseAddress!, pb = pb.baseAddress!, pc = pc.baseAddress!
                    var beta: Float = 0
                    if let bias {
                        bias.storage.withUnsafeBufferPointer { pbias in
                            for r in 0..<m { (pc + r * n).update(from: pbias.baseAddress!, count: n) }
                        }
                        beta = 1
                    }
                    if k == 0 {
                        if bias == nil { pc.update(repeating: 0, count: m * n) }
                        return
                    }
                    // Each call packs its whole share of A and all of the B it touches. Splitting rows
                    // packs B once per worker, splitting columns packs A once per worker: pick the
                    // split that packs less (columns when the output is wider than it is tall).
                    if n > m && n >= 2 * 64 {
                        Parallelism.forChunks(n / 16, minimumChunk: 4) { blocks in
                            let cols = (blocks.lowerBound * 16)..<(blocks.upperBound == n / 16 ? n : blocks.upperBound * 16)
                            BLAS.gemm(transposeB: transposeOther, m: m, n: cols.count, k: k,
                                      a: pa, lda: k, b: transposeOther ? pb + cols.lowerBound * ldb : pb + cols.lowerBound, ldb: ldb,
                                      beta: beta, c: pc + cols.lowerBound, ldc: n)
                        }
                    } else {
                        Parallelism.forChunks(m, minimumChunk: minimumRows) { rows in
                            BLAS.gemm(transposeB: transposeOther, m: rows.count, n: n, k: k,
                                      a: pa + rows.lowerBound * k, lda: k, b: pb, ldb: ldb,
                                      beta: beta, c: pc + rows.lowerBound * n, ldc: n)
                        }
                    }
                }
            }
        }
    }
}
