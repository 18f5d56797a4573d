import Foundation
// MT19937 (Matsumoto and Nishimura 1998), the generator under NumPy's legacy RandomState and
// PyTorch's CPU generator, with the two libraries' normal draws, for reproducing their goldens.

/// The 32-bit Mersenne Twister, seeded as `init_genrand` (NumPy `seed(int)`, torch `manual_seed`).
public struct MersenneTwister: Sendable, Equatable {
    private var words = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt32) {
        words[0] = seed
        for i in 1..<624 { words[i] = 1_812_433_253 &* (words[i - 1] ^ (words[i - 1] >> 30)) &+ UInt32(i) }
    }

    public mutating func next() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (words[i] & 0x8000_0000) | (words[(i + 1) % 624] & 0x7FFF_FFFF)
                words[i] = words[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = words[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        return y ^ (y >> 18)
    }

    var saved: [UInt64] { words.map(UInt64.init) + [UInt64(index)] }

    init(saved: [UInt64]) {
        words = saved.prefix(624).map { UInt32(truncatingIfNeeded: $0) }
        index = Int(saved[624])
    }
}

/// NumPy's legacy `np.random.seed(s); np.random.randn(…)`: 53-bit doubles from two words, the
/// polar Box–Muller method, the second value of each pair cached for the next draw.
public struct NumPyRandomSource: RandomSource, Equatable {
    private var twister: MersenneTwister
    private var cached: Double?

    public init(seed: UInt32) { twister = MersenneTwister(seed: seed) }

    public mutating func nextUInt64() -> UInt64 { UInt64(twister.next()) << 32 | UInt64(twister.next()) }

    /// `random_sample()`.
    public mutating func nextDouble() -> Double {
        let a = Double(twister.next() >> 5), b = Double(twister.next() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

    /// `standard_normal()`, as a Double.
    public mutating func nextGaussian() -> Double {
        if let value = cached {
            cached = nil
            return value
        }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2 * nextDouble() - 1
            x2 = 2 * nextDouble() - 1
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1 || r2 == 0
        let f = (-2 * Foundation.log(r2) / r2).squareRoot()
        cached = f * x1
        return f * x2
    }

    /// `np.random.randn(*shape).astype(np.float32)`.
    public mutating func randn(_ shape: [Int]) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.storage[i] = Float(nextGaussian()) }
        return t
    }

    public var state: RandomState {
        RandomState(algorithm: "numpy-mt19937", words: twister.saved + [cached.map { $0.bitPattern } ?? 0, cached == nil ? 0 : 1])
    }
}

/// PyTorch's CPU `torch.manual_seed(s); torch.randn(n)` for `n ≥ 16` (its `normal_fill` path):
/// uniform floats from 24 bits of each word, then per block of 16 the Box–Muller pairs
/// `(1 − u[j], u[j + 8])`; a tail shorter than 16 redraws the last 16 values.
public struct TorchRandomSource: RandomSource, Equatable {
    private var twister: MersenneTwister

    public init(seed: UInt32) { twister = MersenneTwister(seed: seed) }

    public mutating func nextUInt64() -> UInt64 { UInt64(twister.next()) << 32 | UInt64(twister.next()) }

    mutating func uniformFloat() -> Float { Float(twister.next() & 0xFF_FFFF) * 0x1p-24 }

    /// `torch.randn(shape)` for at least 16 elements.
    public mutating func randn(_ shape: [Int]) -> Tensor {
        var t = Tensor(zeros: shape)
        let n = t.count
        precondition(n >= 16, "TorchRandomSource reproduces torch.randn for 16 or more values, not \(n)")
        for i in 0..<n { t.storage[i] = uniformFloat() }
        func fill16(_ start: Int) {
            for j in 0..<8 {
                let u1 = 1 - t.storage[start + j], u2 = t.storage[start + j + 8]
                let radius = (-2 * logf(u1)).squareRoot(), theta = 2 * Float.pi * u2
                t.storage[start + j] = radius * cosf(theta)
                t.storage[start + j + 8] = radius * sinf(theta)
            }
        }
        for start in stride(from: 0, through: n - 16, by: 16) { fill16(start) }
        if n % 16 != 0 {
            for i in (n - 16)..<n { t.storage[i] = uniformFloat() }
            fill16(n - 16)
        }
        return t
    }

    public var state: RandomState { RandomState(algorithm: "torch-mt19937", words: twister.saved) }
}
