import Foundation
import Testing
@testable import KinoDSP

/// The FFT against a direct DFT computed in `Double`.
@Suite struct FFTTests {
    /// A deterministic pseudo-random signal in [−1, 1).
    static func signal(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Double(state >> 40) / Double(1 << 24)) * 2 - 1
        }
    }

    static func naiveDFT(_ x: [Float]) -> (re: [Double], im: [Double]) {
        let n = x.count
        var re = [Double](repeating: 0, count: n / 2 + 1), im = re
        for k in 0...(n / 2) {
            for j in 0..<n {
                let angle = -2 * Double.pi * Double(j * k % n) / Double(n)
                re[k] += Double(x[j]) * cos(angle)
                im[k] += Double(x[j]) * sin(angle)
            }
        }
        return (re, im)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 8, 9, 12, 16, 25, 30, 49, 64, 77, 97, 100, 128, 210, 256, 400, 512, 1000, 1024])
    func realFFTMatchesDFT(size: Int) {
        let x = Self.signal(size, seed: UInt64(size))
        let fft = RealFFT(size: size)
        var work = fft.makeWorkspace()
        fft.forward(x, workspace: &work)
        let want = Self.naiveDFT(x)
        var worst = 0.0
        for k in 0..<fft.binCount {
            worst = max(worst, abs(Double(work.real[k]) - want.re[k]), abs(Double(work.imag[k]) - want.im[k]))
        }
        // Float rounding grows like sqrt(n)·log n; the signal's energy is about n/3.
        #expect(worst <= 2e-6 * Double(size).squareRoot() * log2(Double(size) + 1) + 1e-6)
    }

    @Test func workspaceIsReusable() {
        let fft = RealFFT(size: 512)
        var work = fft.makeWorkspace()
        let a = Self.signal(512, seed: 1), b = Self.signal(512, seed: 2)
        fft.forward(a, workspace: &work)
        let first = work.real
        fft.forward(b, workspace: &work)
        fft.forward(a, workspace: &work)
        #expect(work.real == first)
    }

    @Test func impulseHasFlatSpectrum() {
        var x = [Float](repeating: 0, count: 400)
        x[0] = 1
        let fft = RealFFT(size: 400)
        var work = fft.makeWorkspace()
        fft.forward(x, workspace: &work)
        #expect(work.real.allSatisfy { abs($0 - 1) < 1e-6 })
        #expect(work.imag.allSatisfy { abs($0) < 1e-6 })
    }
}
