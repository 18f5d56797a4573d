import Foundation

extension Tensor {
    /// Joins tensors along `axis`; every other dimension must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "nothing to concatenate")
        let rank = parts[0].rank
        precondition(axis >= 0 && axis < rank, "concatenate on axis \(axis) of rank \(rank)")
        if axis == 0 { return concatenate(parts) }
        for part in parts {
            precondition(part.rank == rank && zip(part.shape, parts[0].shape).enumerated().allSatisfy { $0.offset == axis || $0.element.0 == $0.element.1 },
                         "concatenate \(part.shape) with \(parts[0].shape) on axis \(axis)")
        }
        let outer = parts[0].shape[..<axis].reduce(1, *)
        let chunks = parts.map { $0.shape[axis...].reduce(1, *) }
        var shape = parts[0].shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var values: [Float] = []
        values.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for (part, chunk) in zip(parts, chunks) {
                values.append(contentsOf: part.storage[o * chunk ..< (o + 1) * chunk])
            }
        }
        return Tensor(shape: shape, values: values)
    }

    /// `range` of dimension `axis`, copied.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(axis >= 0 && axis < rank && range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) of axis \(axis) of \(shape)")
        if axis == 0 { return slice(range) }
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        newShape[axis] = range.count
        var values: [Float] = []
        values.reserveCapacity(newShape.reduce(1, *))
        for o in 0..<outer {
            let base = (o * shape[axis] + range.lowerBound) * inner
            values.append(contentsOf: storage[base ..< base + range.count * inner])
        }
        return Tensor(shape: newShape, values: values)
    }

    /// Writes `part` into `range` of dimension `axis` of a zero tensor of `shape` (the adjoint of a slice).
    static func padded(_ part: Tensor, axis: Int, _ range: Range<Int>, shape: [Int]) -> Tensor {
        var out = Tensor(zeros: shape)
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        for o in 0..<outer {
            let to = (o * shape[axis] + range.lowerBound) * inner, from = o * range.count * inner
            out.storage.replaceSubrange(to ..< to + range.count * inner, with: part.storage[from ..< from + range.count * inner])
        }
        return out
    }

    /// Row `index` of every batch item of `[B, N, D]`, as `[B, D]`.
    public func token(_ index: Int) -> Tensor {
        precondition(rank == 3 && index >= 0 && index < shape[1], "token \(index) of \(shape)")
        let (b, n, d) = (shape[0], shape[1], shape[2])
        var out = Tensor(zeros: [b, d])
        for batch in 0..<b {
            let from = (batch * n + index) * d
            out.storage.replaceSubrange(batch * d ..< (batch + 1) * d, with: storage[from ..< from + d])
        }
        return out
    }

    /// Mean over dimension `axis` (removed), accumulated in order.
    public func mean(axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank, "mean over axis \(axis) of \(shape)")
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        newShape.remove(at: axis)
        var out = Tensor(zeros: newShape)
        let scale = 1 / Float(max(1, n))
        for o in 0..<outer {
            for i in 0..<n {
                let base = (o * n + i) * inner
                for j in 0..<inner { out.storage[o * inner + j] += storage[base + j] }
            }
        }
        for i in 0..<out.count { out.storage[i] *= scale }
        return out
    }

    /// `self + other`, `other` repeated over `self`'s leading elements when it is smaller.
    public func adding(_ other: Tensor) -> Tensor {
        let n = other.count
        precondition(n > 0 && count % n == 0 || count == 0, "add \(other.shape) to \(shape)")
        // One pass, reading both and writing a fresh buffer (a copy then an in-place add is two).
        var out = Tensor(uninitialized: shape)
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                out.storage.withUnsafeMutableBufferPointer { o in
                    let a = a.baseAddress!, b = b.baseAddress!, o = o.baseAddress!
                    let rows = count / max(1, n)
                    Parallelism.forChunks(rows, minimumChunk: max(1, (1 << 16) / max(1, n))) { range in
                        for r in range { Tensor.simdSum(o + r * n, a + r * n, b, n) }
                    }
                }
            }
        }
        return out
    }

    /// `self ⊙ other` with ``adding(_:)``'s broadcasting.
    public func multiplying(_ other: Tensor) -> Tensor {
        let n = other.count
        precondition(n > 0 && count % n == 0, "multiply \(shape) by \(other.shape)")
        var out = self
        out.storage.withUnsafeMutableBufferPointer { dst in
            other.storage.withUnsafeBufferPointer { src in
                for r in 0..<(count / n) {
                    let row = dst.baseAddress! + r * n
                    for j in 0..<n { row[j] *= src[j] }
                }
            }
        }
        return out
    }

    /// A copy multiplied by `factor`.
    public func scaled(by factor: Float) -> Tensor {
        var out = self
        out.scale(by: factor)
        return out
    }

    /// Softmax over the last dimension (a copy).
    public func softmax() -> Tensor {
        var out = self
        out.softmaxLastDimension()
        return out
    }
}
