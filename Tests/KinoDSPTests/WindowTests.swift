import Foundation
import Testing
@testable import KinoDSP

@Suite struct WindowTests {
    @Test func hannIsSymmetricRaisedCosine() {
        let w = WindowFunction.hann.samples(length: 400)
        #expect(w[0] == 0 && w[399] == 0)
        #expect(abs(w[100] - Float(0.5 - 0.5 * cos(2 * Double.pi * 100 / 399))) < 1e-7)
        for n in 0..<200 { #expect(abs(w[n] - w[399 - n]) < 1e-7) }
    }

    @Test func periodicHannDividesByLength() {
        let w = WindowFunction.hann.samples(length: 8, periodic: true)
        #expect(abs(w[4] - 1) < 1e-7)
        #expect(abs(w[2] - 0.5) < 1e-7)
    }

    @Test func poveyIsHannToThePower085() {
        let hann = WindowFunction.hann.samples(length: 400), povey = WindowFunction.povey.samples(length: 400)
        for n in 0..<400 { #expect(abs(povey[n] - pow(hann[n], 0.85)) < 2e-7) }
    }

    @Test func hammingBlackmanRectangular() {
        let n = 401
        let hamming = WindowFunction.hamming.samples(length: n)
        #expect(abs(hamming[0] - 0.08) < 1e-7 && abs(hamming[200] - 1) < 1e-7)
        let blackman = WindowFunction.blackman.samples(length: n)
        #expect(abs(blackman[0]) < 1e-7 && abs(blackman[200] - 1) < 1e-6)
        let c = 0.3, custom = WindowFunction.blackman(coefficient: c).samples(length: n)
        let phase = 2 * Double.pi * 50 / 400
        #expect(abs(Double(custom[50]) - (c - 0.5 * cos(phase) + (0.5 - c) * cos(2 * phase))) < 1e-7)
        #expect(WindowFunction.rectangular.samples(length: 7) == [Float](repeating: 1, count: 7))
        #expect(WindowFunction.hann.samples(length: 1) == [1])
    }

    @Test(arguments: ["hanning", "hann", "hamming", "povey", "rectangular", "blackman"])
    func namesRoundTrip(name: String) throws {
        let window = try #require(WindowFunction(name: name))
        #expect(WindowFunction(name: window.name) == window)
    }
}
