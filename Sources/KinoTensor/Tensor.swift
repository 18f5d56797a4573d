import Foundation

/// A dense, row-major Float32 array with a shape.
///
/// Storage is one contiguous Swift array (copy-on-write), so a tensor is a value: passing it
/// around is cheap and mutating a shared one copies first. Operations are free functions and
/// methods that return new tensors, plus `…(into:)` forms that write into a caller-owned
/// buffer so model loops can reuse memory. Every intermediate a forward pass makes is an
/// ordinary tensor, which is what a later reverse-mode pass needs to keep.
///
/// ```swift
/// var x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
/// x[1, 2]            // 6
/// let y = x.reshaped([3, 2])
/// ```
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first.
    public internal(set) var shape: [Int]
    /// Values in row-major order; `count == shape.product`.
    public var storage: [Float]

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose values are not set: for kernels that write every element before any read
    /// (a fresh buffer is not zero-filled, which at activation sizes costs a pass over memory).
    init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.storage = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// A tensor filled with one value.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Wraps values in row-major order; their count must match the shape.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *),
                     "\(values.count) values for shape \(shape) (\(shape.reduce(1, *)))")
        self.shape = shape
        self.storage = values
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Element strides in row-major order.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        var step = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            result[d] = step
            step *= shape[d]
        }
        return result
    }

    /// The same values viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, values: storage)
    }

    /// Changes the shape in place without touching the values.
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == storage.count, "cannot view \(shape) as \(newShape)")
        shape = newShape
    }

    /// Element access by full index.
    public subscript(_ index: Int...) -> Float {
        get { storage[offset(index)] }
        set { storage[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) outside \(shape)")
            flat = flat * n + i
        }
        return flat
    }

    /// Rows `range` of the outermost dimension, copied.
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(!shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "slice \(range) of \(shape)")
        let inner = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, values: Array(storage[range.lowerBound * inner ..< range.upperBound * inner]))
    }

    /// Joins tensors along the outermost dimension; trailing dimensions must agree.
    public static func concatenate(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "nothing to concatenate")
        let tail = Array(parts[0].shape.dropFirst())
        var values: [Float] = []
        values.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        var rows = 0
        for part in parts {
            precondition(Array(part.shape.dropFirst()) == tail, "concatenate \(part.shape) with tail \(tail)")
            values.append(contentsOf: part.storage)
            rows += part.shape[0]
        }
        return Tensor(shape: [rows] + tail, values: values)
    }

    /// Largest absolute element-wise difference; shapes must match.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "compare \(shape) with \(other.shape)")
        var worst: Float = 0
        for i in 0..<storage.count { worst = max(worst, abs(storage[i] - other.storage[i])) }
        return worst
    }

    /// Swaps the last two dimensions (a copy).
    public func transposedLastTwo() -> Tensor {
        precondition(rank >= 2, "transpose needs rank ≥ 2, got \(shape)")
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let batch = count / max(1, rows * cols)
        var out = Tensor(zeros: Array(shape.dropLast(2)) + [cols, rows])
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let base = b * rows * cols
                    for r in 0..<rows {
                        for c in 0..<cols { dst[base + c * rows + r] = src[base + r * cols + c] }
                    }
                }
            }
        }
        return out
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = storage.prefix(6).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(storage.count > 6 ? ", …" : "")])"
    }
}
