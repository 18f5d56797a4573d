import Testing
import KinoTensor

@Suite struct MatMulSplitTests {
    /// Both work splits (rows for tall outputs, column blocks for wide ones) against a direct sum.
    @Test(arguments: [(300, 40, 50), (50, 40, 300), (7, 13, 517), (130, 3, 129)])
    func splitsMatchTheDirectProduct(m: Int, k: Int, n: Int) {
        var seed: UInt64 = 42
        func next() -> Float { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 1000 }
        let a = Tensor(shape: [m, k], values: (0..<(m * k)).map { _ in next() })
        let w = Tensor(shape: [n, k], values: (0..<(n * k)).map { _ in next() })
        let bias = Tensor(shape: [n], values: (0..<n).map { _ in next() })
        let bt = Tensor(shape: [k, n], values: (0..<(k * n)).map { i in w.storage[(i % n) * k + i / n] })
        let y = a.linear(weight: w, bias: bias)
        let z = a.matmul(bt)
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k { s += a.storage[i * k + p] * w.storage[j * k + p] }
                worst = max(worst, abs(y.storage[i * n + j] - (s + bias.storage[j])), abs(z.storage[i * n + j] - s))
            }
        }
        #expect(worst < 1e-4)
    }
}
