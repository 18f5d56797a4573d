import Foundation
import Testing
import KinoDSP
import KinoGraph
import KinoMedia
import KinoTestSupport

/// Emits fixed samples in chunks of an awkward size, as a decoder would.
final class SamplesSource: SourceStage {
    let inputTypes: [PortType] = []
    let outputType: PortType? = .audio
    let samples: [Float], chunk: Int, rate: Int, channels: Int
    init(_ samples: [Float], chunk: Int, rate: Int = 16000, channels: Int = 1) {
        self.samples = samples; self.chunk = chunk; self.rate = rate; self.channels = channels
    }
    func produce(into output: StageOutput) throws {
        var i = 0
        while i < samples.count {
            let n = min(chunk * channels, samples.count - i)
            output.emit(.audio(AudioChunk(seconds: Double(i / channels) / Double(rate), sampleRate: rate,
                                          channels: channels, samples: Array(samples[i..<i + n]))))
            i += n
        }
    }
}

extension CollectSink {
    var blocks: [SpectrogramBlock] {
        packets.compactMap { if case .spectrogram(let b) = $0.payload { return b } else { return nil } }
    }
}

@Suite struct SpectrogramStageTests {
    static let speech = try! AudioDecoder.decodeAll(path: Repository.sample("speech.wav"), sampleRate: 16000).samples

    @Test("streamed AST windows equal the extractor on the whole recording", arguments: [(300, 200), (300, 300), (1024, 1024)])
    func astWindowsMatchBatch(maxLength: Int, hop: Int) throws {
        var options = ASTFeatureExtractor.Options()
        options.maxLength = maxLength
        let extractor = try ASTFeatureExtractor(options: options)
        let expected = extractor.windows(Self.speech, hopFrames: hop)
        let sink = CollectSink(.spectrogram)
        let stage = try SpectrogramStage(kind: .ast, stepFrames: hop, extractor: extractor)
        let report = try runChain([("audio", SamplesSource(Self.speech, chunk: 777)), ("spec", stage), ("sink", sink)])
        #expect(report.status == .completed)
        let got = sink.blocks
        #expect(got.count == expected.count)
        for (g, e) in zip(got, expected) {
            #expect(g.index == e.index && g.validFrames == e.validFrames)
            #expect(abs(g.startSeconds - e.startTime) < 1e-9 && abs(g.endSeconds - e.endTime) < 1e-9)
            #expect(g.features.frames == maxLength && g.features.bins == 128)
            var worst: Float = 0
            for i in 0..<g.features.values.count { worst = max(worst, abs(g.features.values[i] - e.features.values[i])) }
            #expect(worst < 1e-5, "window \(g.index): max |Δ| \(worst)")
        }
    }

    @Test("fbank blocks tile the whole fbank without gaps")
    func fbankBlocksTile() throws {
        let sink = CollectSink(.spectrogram)
        let stage = try SpectrogramStage(kind: .fbank, stepFrames: 100, melBins: 64)
        _ = try runChain([("audio", SamplesSource(Self.speech, chunk: 4000)), ("spec", stage), ("sink", sink)])
        var options = KaldiFbankOptions.ast
        options.numMelBins = 64
        let whole = try KaldiFbank(options: options).compute(Self.speech)
        let blocks = sink.blocks
        #expect(blocks.map(\.validFrames).reduce(0, +) == whole.frames)
        #expect(blocks.dropLast().allSatisfy { $0.validFrames == 100 })
        let joined = blocks.flatMap(\.features.values)
        #expect(joined.count == whole.values.count)
        var worst: Float = 0
        for i in 0..<min(joined.count, whole.values.count) { worst = max(worst, abs(joined[i] - whole.values[i])) }
        #expect(worst < 1e-5)
        #expect(abs(blocks[3].startSeconds - 3.0) < 1e-9)
    }

    @Test("stereo is averaged to mono and a wrong rate names the fix")
    func stereoAndRate() throws {
        let stereo = Self.speech.prefix(32000).flatMap { [$0, $0] }
        let sink = CollectSink(.spectrogram)
        _ = try runChain([("audio", SamplesSource(Array(stereo), chunk: 1000, channels: 2)),
                          ("spec", try SpectrogramStage(kind: .fbank, stepFrames: 50)), ("sink", sink)])
        let mono = try KaldiFbank(options: .ast).compute(Array(Self.speech.prefix(32000)))
        #expect(sink.blocks.flatMap(\.features.values).count == mono.values.count)
        let report = try runChain([("audio", SamplesSource(Self.speech, chunk: 1000, rate: 8000)),
                                   ("spec", try SpectrogramStage(kind: .ast, stepFrames: 1024)), ("sink", CollectSink())])
        #expect(report.status == .failed)
        #expect(report.failure?.message.contains("sample_rate: 16000") == true)
    }

    @Test("a clip shorter than one 25 ms frame still gives one all-padding AST window")
    func tinyInput() throws {
        let sink = CollectSink(.spectrogram)
        _ = try runChain([("audio", SamplesSource([Float](repeating: 0.1, count: 100), chunk: 50)),
                          ("spec", try SpectrogramStage(kind: .ast, stepFrames: 1024)), ("sink", sink)])
        #expect(sink.blocks.count == 1)
        #expect(sink.blocks[0].validFrames == 0)
        #expect(sink.blocks[0].features.values.allSatisfy { abs($0 - 0.46703237) < 1e-6 })
    }

    @Test("npy files round-trip and carry numpy's header")
    func npyRoundTrip() throws {
        let matrix = FeatureMatrix(frames: 3, bins: 2, values: [1, 2, 3, 4, 5, -6.5])
        let data = NumpyFile.encode(matrix.values, shape: [3, 2])
        #expect((data.count - 24) % 64 == 0)   // header padded to 64 bytes, then 6 floats
        #expect(String(decoding: data[10..<70], as: UTF8.self).contains("'shape': (3, 2)"))
        let back = try NumpyFile.decode(data)
        #expect(back.shape == [3, 2] && back.values == matrix.values)
        #expect(throws: (any Error).self) { try NumpyFile.decode(Data("nope".utf8)) }
    }
}
