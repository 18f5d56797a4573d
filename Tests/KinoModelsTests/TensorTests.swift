import Foundation
import KinoTensor
import Testing

@Suite("tensor kernels")
struct TensorTests {
    @Test("vectorised exp, erf and tanh against libm")
    func simdMath() {
        var worstExp: Float = 0, worstErf: Float = 0, worstTanh: Float = 0
        for start in stride(from: -80.0 as Float, to: 80, by: 0.8) {
            let x = SIMD8<Float>((0..<8).map { start + Float($0) * 0.1 })
            let e = SIMDMath.exp(x), r = SIMDMath.erf(x * 0.1), t = SIMDMath.tanh(x * 0.1)
            for i in 0..<8 {
                worstExp = max(worstExp, abs(e[i] - expf(x[i])) / expf(x[i]))
                worstErf = max(worstErf, abs(r[i] - erff(x[i] * 0.1)))
                worstTanh = max(worstTanh, abs(t[i] - tanhf(x[i] * 0.1)))
            }
        }
        #expect(worstExp < 5e-7)
        #expect(worstErf < 5e-7)
        #expect(worstTanh < 5e-7)
    }

    @Test("softmax rows sum to one and match the scalar formula")
    func softmax() {
        var t = Tensor(shape: [3, 11], values: (0..<33).map { Float($0 % 7) - 3 + Float($0) * 0.01 })
        let original = t
        t.softmaxLastDimension()
        for r in 0..<3 {
            let row = (0..<11).map { original[r, $0] }
            let peak = row.max()!
            let total = row.map { expf($0 - peak) }.reduce(0, +)
            for c in 0..<11 { #expect(abs(t[r, c] - expf(row[c] - peak) / total) < 1e-6) }
        }
    }

    @Test("bicubic resize as torch: identity at equal size; a 3×4 grid to 5×3 as F.interpolate gives")
    func bicubic() {
        let grid = Tensor(shape: [1, 4, 4], values: (0..<16).map(Float.init))
        #expect(grid.resizedBicubic(height: 4, width: 4) == grid)
        // torch 2.5.1: F.interpolate(x.reshape(1, 1, 3, 4), size=(5, 3), mode="bicubic", align_corners=False)
        let x = Tensor(shape: [1, 3, 4], values: [0, 1, 4, 9, 2, -1, 0, 5, 3, 3, 1, 0])
        let expected: [Float] = [-0.048787, 2.449001, 8.721828, 0.551417, 0.574749, 7.070767, 1.552084, -1.25,
                                 4.299768, 2.564626, 0.553376, 1.444397, 3.177058, 2.414751, -0.293536]
        let y = x.resizedBicubic(height: 5, width: 3)
        for (a, b) in zip(y.storage, expected) { #expect(abs(a - b) < 1e-5) }
    }

    @Test("overlapping 2-D patches equal a direct convolution")
    func overlappingPatches() {
        let input = Tensor(shape: [1, 1, 6, 7], values: (0..<42).map { Float($0) * 0.5 - 3 })
        let weight = Tensor(shape: [2, 1, 3, 3], values: (0..<18).map { Float($0 % 5) - 2 })
        let out = input.patchEmbedding(weight: weight, bias: Tensor(shape: [2], values: [0.5, -1]), stride: [2, 2])
        #expect(out.shape == [1, 6, 2])  // (6−3)/2+1 = 2 rows × (7−3)/2+1 = 3 columns
        for gy in 0..<2 {
            for gx in 0..<3 {
                for o in 0..<2 {
                    var acc: Float = o == 0 ? 0.5 : -1
                    for ky in 0..<3 { for kx in 0..<3 { acc += input[0, 0, gy * 2 + ky, gx * 2 + kx] * weight[o, 0, ky, kx] } }
                    #expect(abs(out[0, gy * 3 + gx, o] - acc) < 1e-4)
                }
            }
        }
    }
}
