import Foundation
import KinoTensor
import Testing

/// The random sources against the libraries they reproduce and against themselves.
/// Goldens: `tools/.venv/bin/python -c "import numpy as np, torch; np.random.seed(12345);
/// print(np.random.randn(10000)[-5:]); torch.manual_seed(7); print(torch.randn(37))"`
/// (numpy 1.26.4, torch 2.5.1). The NumPy line is also ml-stable-diffusion's own golden.
@Suite("random sources")
struct RandomSourceTests {
    @Test("NumPy legacy randn: seed 12345, the last five of 10,000")
    func numpy() {
        var r = NumPyRandomSource(seed: 12345)
        let values = r.randn([10_000]).storage
        let expected: [Float] = [-0.8628534548222186, 2.152294085787089, -0.006705556077771688, -1.2147230949662449,
                                 0.6549886591834755]
        for (a, b) in zip(values.suffix(5), expected) { #expect(abs(a - b) < 1e-6) }
        #expect(abs(values[0] - -0.20470765948471295) < 1e-6)
    }

    @Test("torch.randn on the CPU: 37 values (with the redrawn tail) and 64")
    func torch() {
        var r = TorchRandomSource(seed: 7)
        let a = r.randn([37]).storage
        let head: [Float] = [-0.8201345205307007, 0.39563116431236267, 0.8989084959030151]
        let tail: [Float] = [0.39574092626571655, -1.3677396774291992, -0.10073431581258774]
        for (x, y) in zip(a.prefix(3) + a.suffix(3), head + tail) { #expect(abs(x - y) < 1e-5, "\(x) vs \(y)") }
        var s = TorchRandomSource(seed: 3)
        let b = s.randn([64]).storage
        for (x, y) in zip(b.prefix(3) + b.suffix(3), [-0.07664429396390915, 0.35988152027130127, -0.7820168137550354,
                                                      -0.5296069979667664, 1.3544285297393799, 1.3777583837509155] as [Float]) {
            #expect(abs(x - y) < 1e-5, "\(x) vs \(y)")
        }
    }

    @Test("named SplitMix streams are independent of each other and restore from their state")
    func streams() throws {
        var a = SplitMix64Source.stream("data-order-0", seed: 1)
        var b = SplitMix64Source.stream("dropout-0-0", seed: 1)
        #expect(a.nextUInt64() != b.nextUInt64())
        _ = a.normal([10])
        var restored = try SplitMix64Source(state: a.state)
        #expect(restored.nextUInt64() == a.nextUInt64())
        #expect(a.permutation(10).sorted() == Array(0..<10))
        #expect(throws: RandomStateError.self) { try SplitMix64Source(state: RandomState(algorithm: "x", words: [1])) }
    }
}
