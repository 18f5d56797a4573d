import Foundation
import Testing
@testable import KinoDSP

/// Internal consistency of KaldiFbank: the batched and single-frame paths, dither, the fast log.
@Suite struct KaldiFbankTests {
    static let samples = FFTTests.signal(16000, seed: 7).map { 0.3 * $0 }

    @Test func fastLogIsAccurate() {
        var worst: Float = 0
        var x: Float = 1.1920929e-7
        while x < 1e7 {
            worst = max(worst, abs(fastLog(x) - log(x)) / max(1, abs(log(x))))
            x *= 1.0137
        }
        #expect(worst <= 4e-7)
        #expect(fastLog(1) == 0)
    }

    /// Dropping leading frames moves every frame to another SIMD lane or to the single-frame path;
    /// the values must not depend on where a frame was computed.
    @Test(arguments: [1, 2, 3, 5])
    func framesDoNotDependOnBatchPosition(skip: Int) throws {
        let fbank = try KaldiFbank(options: .ast)
        let full = fbank.compute(Self.samples)
        let shifted = fbank.compute(Array(Self.samples.dropFirst(skip * fbank.windowShift)))
        #expect(shifted.frames == full.frames - skip)
        let d = differences(shifted.values, Array(full.values[(skip * full.bins)...]))
        #expect(d.max <= 1e-5)
    }

    @Test func ditherIsSeededAndSmall() throws {
        var options = KaldiFbankOptions.ast
        options.dither = 1e-4
        options.ditherSeed = 42
        let a = try KaldiFbank(options: options).compute(Self.samples)
        let b = try KaldiFbank(options: options).compute(Self.samples)
        #expect(a == b)
        options.ditherSeed = 43
        let c = try KaldiFbank(options: options).compute(Self.samples)
        #expect(a != c)
        let clean = try KaldiFbank(options: .ast).compute(Self.samples)
        #expect(differences(a.values, clean.values).mean < 1e-2)
        // Dither lifts silence off the log floor, which is what Kaldi uses it for. (With 128 bins
        // some of the lowest bands hold no FFT bin at all, e.g. band 3, and stay at the floor; the
        // next few, below 300 Hz where pre-emphasis removes most of the noise, can dip under it.)
        options.dither = 1e-2
        let silence = try KaldiFbank(options: options).compute([Float](repeating: 0, count: 4000))
        for t in 0..<silence.frames {
            #expect(silence.row(t).dropFirst(16).allSatisfy { $0 > log(Float.ulpOfOne) })
        }
    }

    @Test func subtractMeanCentresEveryColumn() throws {
        var options = KaldiFbankOptions.ast
        options.subtractMean = true
        let out = try KaldiFbank(options: options).compute(Self.samples)
        for b in 0..<out.bins {
            let mean = (0..<out.frames).reduce(0.0) { $0 + Double(out[$1, b]) } / Double(out.frames)
            #expect(abs(mean) < 1e-4)
        }
    }

    @Test func minDurationGivesNoFrames() throws {
        var options = KaldiFbankOptions.ast
        options.minDuration = 2
        #expect(try KaldiFbank(options: options).compute(Self.samples).frames == 0)
    }

    @Test func astPresetIsHuggingFaces() {
        let o = KaldiFbankOptions.ast
        #expect(o.windowType == .hann && o.numMelBins == 128 && o.sampleFrequency == 16000)
        #expect(o.dither == 0 && o.preemphasisCoefficient == 0.97 && o.lowFrequency == 20 && o.highFrequency == 0)
        #expect(o.windowSize == 400 && o.windowShift == 160 && o.paddedWindowSize == 512)
    }
}

@Suite struct KaldiFbankThreadingTests {
    @Test(arguments: [2, 3, 8])
    func threadsDoNotChangeTheResult(threads: Int) throws {
        var options = KaldiFbankOptions.ast
        options.dither = 1e-3
        let fbank = try KaldiFbank(options: options)
        let samples = KaldiFbankTests.samples + KaldiFbankTests.samples   // 198 frames
        #expect(fbank.compute(samples, threads: threads) == fbank.compute(samples))
    }
}
