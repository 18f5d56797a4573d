import Foundation

/// A seeded generator whose draws, and whose saved state, are the same on every platform.
public protocol RandomSource: Sendable {
    /// The next 64 random bits.
    mutating func nextUInt64() -> UInt64
    /// The generator's whole state, to be written into a checkpoint and restored.
    var state: RandomState { get }
}

/// A generator's saved state: its algorithm and words.
public struct RandomState: Codable, Sendable, Equatable {
    public var algorithm: String
    public var words: [UInt64]

    public init(algorithm: String, words: [UInt64]) {
        self.algorithm = algorithm
        self.words = words
    }
}

extension RandomSource {
    /// Uniform in the open interval (0, 1), 53 bits.
    public mutating func nextUniform() -> Double { (Double(nextUInt64() >> 11) + 0.5) * 0x1p-53 }

    /// A standard normal by Box–Muller (one draw per pair of uniforms, the sine half discarded,
    /// so the stream does not depend on how draws are grouped).
    public mutating func nextNormal() -> Float {
        let u = nextUniform(), v = nextUniform()
        return Float((-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    /// A tensor of normals.
    public mutating func normal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.storage[i] = mean + standardDeviation * nextNormal() }
        return t
    }

    /// A tensor uniform in `range`.
    public mutating func uniform(_ shape: [Int], in range: ClosedRange<Float>) -> Tensor {
        var t = Tensor(zeros: shape)
        let width = Double(range.upperBound - range.lowerBound)
        for i in 0..<t.count { t.storage[i] = range.lowerBound + Float(nextUniform() * width) }
        return t
    }

    /// An integer in `0..<bound` (Lemire's multiply-shift with rejection, unbiased).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "random integer below \(bound)")
        let b = UInt64(bound)
        while true {
            let product = nextUInt64().multipliedFullWidth(by: b)
            if product.low >= (0 &- b) % b { return Int(product.high) }
        }
    }

    /// A Fisher–Yates permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, nextInt(below: i + 1)) }
        }
        return order
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): one 64-bit word of state, fast, and good enough for
/// initialisation, shuffling, dropout masks and diffusion noise.
public struct SplitMix64Source: RandomSource, Equatable {
    private var word: UInt64

    /// A generator seeded with `seed` (the same stream as KinoModels' `RandomWeights(seed:)`).
    public init(seed: UInt64) { word = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// Restores a saved ``state``.
    /// - Throws: ``RandomStateError`` for another algorithm's state.
    public init(state: RandomState) throws {
        guard state.algorithm == "splitmix64", state.words.count == 1 else {
            throw RandomStateError.wrongAlgorithm(expected: "splitmix64", found: state.algorithm)
        }
        word = state.words[0]
    }

    public mutating func nextUInt64() -> UInt64 {
        word &+= 0x9E37_79B9_7F4A_7C15
        var z = word
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public var state: RandomState { RandomState(algorithm: "splitmix64", words: [word]) }

    /// An independent stream named `name` split off `seed`: changing how much one stream draws
    /// (the dropout rate, the data order) never shifts another.
    public static func stream(_ name: String, seed: UInt64) -> SplitMix64Source {
        // FNV-1a of the name, mixed with the seed through one SplitMix step.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var mixer = SplitMix64Source(seed: seed ^ hash)
        return SplitMix64Source(seed: mixer.nextUInt64())
    }
}

/// A saved random state that cannot be restored.
public enum RandomStateError: Error, Equatable, LocalizedError {
    case wrongAlgorithm(expected: String, found: String)

    public var errorDescription: String? {
        switch self {
        case .wrongAlgorithm(let expected, let found):
            "random state of algorithm \"\(found)\" where \"\(expected)\" was expected"
        }
    }
}
