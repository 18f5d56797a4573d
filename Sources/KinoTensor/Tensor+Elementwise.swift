import Foundation

/// Element-wise activations by their Hugging Face `hidden_act` names.
///
/// The exact and tanh forms differ by up to ~1e-3, far above the 1e-4 parity tolerance, so
/// a checkpoint must be run with the variant its config names.
public enum Activation: String, Sendable, Codable, CaseIterable {
    /// `0.5·x·(1 + erf(x/√2))` (ViT, AST).
    case gelu
    /// `0.5·x·(1 + tanh(0.7978845608·x·(1 + 0.044715·x²)))` (ViViT; Flax `nn.gelu`).
    case geluFast = "gelu_fast"
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    case geluNew = "gelu_new"
    /// `x·sigmoid(1.702·x)` (CLIP-style adapters).
    case quickGelu = "quick_gelu"
    case relu
    /// `x·sigmoid(x)` (HF `silu`).
    case silu
    case tanh
    case sigmoid

    /// Decodes HF's names, including the aliases `gelu_python` (exact) and `gelu_pytorch_tanh`
    /// (the tanh form, numerically `gelu_new`).
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        let aliases: [String: Activation] = ["gelu_python": .gelu, "gelu_pytorch_tanh": .geluNew]
        guard let value = Activation(rawValue: name) ?? aliases[name] else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "unsupported activation \"\(name)\" (supported: "
                    + (Activation.allCases.map(\.rawValue) + aliases.keys.sorted()).joined(separator: ", ") + ")"))
        }
        self = value
    }

    /// The activation at one value.
    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .gelu:
            return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .geluFast:
            return 0.5 * x * (1 + tanhf(x * 0.7978845608 * (1 + 0.044715 * x * x)))
        case .geluNew:
            return 0.5 * x * (1 + tanhf(0.79788456080286536 * (x + 0.044715 * x * x * x)))
        case .quickGelu:
            return x / (1 + expf(-1.702 * x))
        case .relu:
            return max(0, x)
        case .silu:
            return x / (1 + expf(-x))
        case .tanh:
            return tanhf(x)
        case .sigmoid:
            return 1 / (1 + expf(-x))
        }
    }
}

extension Tensor {
    /// Applies `activation` to every element in place.
    public mutating func apply(_ activation: Activation) {
        storage.withUnsafeMutableBufferPointer { p in
            Tensor.map(activation, UnsafePointer(p.baseAddress!), into: p.baseAddress!, count: p.count)
        }
    }

    /// A copy with `activation` applied (one pass into a fresh buffer).
    public func applying(_ activation: Activation) -> Tensor {
        var out = Tensor(uninitialized: shape)
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                Tensor.map(activation, src.baseAddress!, into: dst.baseAddress!, count: src.count)
            }
        }
        return out
    }

    /// `dst[i] = f(src[i])`, eight lanes at a time; `dst` may be `src`.
    static func map(_ activation: Activation, _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        // Transcendentals dominate: split large tensors over the workers.
        Parallelism.forChunks(n, minimumChunk: 1 << 15) { range in
            let rawSrc = UnsafeRawPointer(src), raw = UnsafeMutableRawPointer(dst)
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let v = rawSrc.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                raw.storeBytes(of: activation.apply(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                dst[i] = activation(src[i])
                i += 1
            }
        }
    }

    /// Adds `other` element-wise in place; shapes must have equal element counts.
    public mutating func add(_ other: Tensor) {
        let count = self.count
        precondition(count == other.count, "add \(other.shape) to \(shape)")
        storage.withUnsafeMutableBufferPointer { dst in
            other.storage.withUnsafeBufferPointer { src in
                Tensor.simdAdd(dst.baseAddress!, src.baseAddress!, count)
            }
        }
    }

    /// Adds `row` (`[D]`) to every row of the last dimension in place (a broadcast bias).
    public mutating func addRow(_ row: Tensor) {
        let d = row.count, count = self.count
        precondition(d > 0 && count % d == 0, "add row \(row.shape) to \(shape)")
        storage.withUnsafeMutableBufferPointer { dst in
            row.storage.withUnsafeBufferPointer { src in
                for r in 0..<(count / d) { Tensor.simdAdd(dst.baseAddress! + r * d, src.baseAddress!, d) }
            }
        }
    }

    /// Multiplies every element by `factor` in place.
    public mutating func scale(by factor: Float) {
        storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] *= factor }
        }
    }

    /// `lhs + rhs`, element-wise.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        var out = lhs
        out.add(rhs)
        return out
    }

    /// `out[i] = a[i] + b[i]` with 8-wide SIMD and a scalar tail.
    @inline(__always)
    static func simdSum(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let ro = UnsafeMutableRawPointer(out), ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 8 <= n {
            let x = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let y = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ro.storeBytes(of: x + y, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            out[i] = a[i] + b[i]
            i += 1
        }
    }

    /// `dst[i] += src[i]` with 8-wide SIMD and a scalar tail.
    @inline(__always)
    static func simdAdd(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let raw = UnsafeMutableRawPointer(dst), rawSrc = UnsafeRawPointer(src)
        while i + 8 <= n {
            let a = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let b = rawSrc.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: a + b, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            dst[i] += src[i]
            i += 1
        }
    }
}
