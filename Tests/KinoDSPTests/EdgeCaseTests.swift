import Foundation
import Testing
@testable import KinoDSP

/// Silence, DC, clipping, too-short input, and the AST windowing helper.
@Suite struct EdgeCaseTests {
    static let logEpsilon = log(Float.ulpOfOne)   // −15.942385
    static let astPadding: Float = 0.467_032_37

    static func tone(_ n: Int, hertz: Double = 440, amplitude: Float = 0.5) -> [Float] {
        (0..<n).map { amplitude * Float(sin(2 * Double.pi * hertz * Double($0) / 16000)) }
    }

    @Test func silenceIsTheLogFloorNotNaN() throws {
        var options = KaldiFbankOptions.ast
        options.useEnergy = true
        let out = try KaldiFbank(options: options).compute([Float](repeating: 0, count: 16000))
        #expect(out.frames == 98 && out.bins == 129)
        #expect(out.values.allSatisfy { !$0.isNaN && $0.isFinite })
        for t in 0..<out.frames {
            #expect(out[t, 0] == 0)   // energy floored at ln(energyFloor = 1)
            for b in 1..<out.bins { #expect(out[t, b] == Self.logEpsilon) }
        }
    }

    @Test func shortInputGivesNoFramesAndAllPaddingForAST() throws {
        let clip = Self.tone(399)
        let fbank = try KaldiFbank(options: .ast)
        let out = fbank.compute(clip)
        #expect(out.frames == 0 && out.bins == 128 && out.values.isEmpty)
        #expect(fbank.compute([]).frames == 0)
        let extractor = try ASTFeatureExtractor()
        let input = extractor.extract(clip)
        #expect(input.frames == 1024 && input.bins == 128)
        #expect(input.values.allSatisfy { abs($0 - Self.astPadding) < 1e-6 })
    }

    @Test func withoutSnipEdgesShortInputIsMirrored() throws {
        var options = KaldiFbankOptions.ast
        options.snipEdges = false
        let fbank = try KaldiFbank(options: options)
        #expect(fbank.compute(Self.tone(300)).frames == 2)   // (300 + 80) / 160
        #expect(fbank.compute(Self.tone(79)).frames == 0)
        #expect(fbank.compute(Self.tone(300)).values.allSatisfy { $0.isFinite })
    }

    @Test func dcOffsetIsRemovedPerFrame() throws {
        let fbank = try KaldiFbank(options: .ast)
        let clean = fbank.compute(Self.tone(4000))
        let shifted = fbank.compute(Self.tone(4000).map { $0 + 0.25 })
        let d = differences(clean.values, shifted.values)
        #expect(d.max < 1e-3)
        let constant = fbank.compute([Float](repeating: 0.7, count: 4000))
        #expect(constant.values.allSatisfy { $0 == Self.logEpsilon })
    }

    @Test func clippedInputIsFiniteAndLouder() throws {
        let fbank = try KaldiFbank(options: .ast)
        let clipped = fbank.compute(Self.tone(4000, amplitude: 3).map { min(1, max(-1, $0)) })
        #expect(clipped.values.allSatisfy { $0.isFinite })
        let clean = fbank.compute(Self.tone(4000, amplitude: 1))
        // Clipping puts odd harmonics (1320 Hz, 2200 Hz, …) into otherwise quiet bands.
        #expect(clipped.values.reduce(0, +) > clean.values.reduce(0, +))
    }

    @Test func frameCountsFollowKaldi() throws {
        let fbank = try KaldiFbank(options: .ast)
        #expect(fbank.frameCount(sampleCount: 163_840) == 1022)
        #expect(fbank.frameCount(sampleCount: 160_000) == 998)
        #expect(fbank.frameCount(sampleCount: 16000) == 98)
        #expect(fbank.frameCount(sampleCount: 400) == 1)
        #expect(fbank.paddedWindowSize == 512)
        #expect(abs(fbank.frameStart(3) - 0.03) < 1e-12)
    }

    @Test func invalidOptionsThrow() {
        var bins = KaldiFbankOptions.ast
        bins.numMelBins = 3
        #expect(throws: DSPError.self) { try KaldiFbank(options: bins) }
        var high = KaldiFbankOptions.ast
        high.highFrequency = 9000
        #expect(throws: DSPError.self) { try KaldiFbank(options: high) }
        var odd = KaldiFbankOptions.ast
        odd.roundToPowerOfTwo = false
        odd.frameLengthMs = 25.0625   // 401 samples: an odd FFT torchaudio rejects too
        #expect(throws: DSPError.self) { try KaldiFbank(options: odd) }
        var length = ASTFeatureExtractor.Options()
        length.maxLength = 0
        #expect(throws: DSPError.self) { try ASTFeatureExtractor(options: length) }
    }

    @Test func astWindowsCoverTheRecording() throws {
        var options = ASTFeatureExtractor.Options()
        options.maxLength = 100
        let extractor = try ASTFeatureExtractor(options: options)
        let samples = Self.tone(16000 * 3)                    // 298 frames
        let windows = extractor.windows(samples, hopFrames: 50)
        #expect(windows.map(\.startFrame) == [0, 50, 100, 150, 200])
        #expect(windows.map(\.validFrames) == [100, 100, 100, 100, 98])
        #expect(windows.map(\.startTime) == [0, 0.5, 1, 1.5, 2])
        // Window 4 holds frames 200…297: the last starts at 2.97 s and lasts 25 ms.
        #expect(abs(windows[4].endTime - 2.995) < 1e-9)
        #expect(abs(windows[0].endTime - 1.015) < 1e-9)
        let last = try #require(windows.last)
        #expect(last.features.row(99).allSatisfy { abs($0 - Self.astPadding) < 1e-6 })
        // The first window is exactly what extract() returns for the same audio.
        #expect(windows[0].features == extractor.extract(samples))
        #expect(extractor.windows([], hopFrames: 10).count == 1)
    }
}
