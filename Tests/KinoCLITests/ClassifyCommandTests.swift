import Foundation
import Testing
import KinoDSP
import KinoMedia
import KinoModels
import KinoTensor
import KinoTestSupport

/// `kino classify` as a user runs it, on tiny random-weight checkpoints (their logits are checked
/// against PyTorch in KinoModelsTests): the windows it plans, the frames and times it reports, and
/// scores equal to running the same window through the library by hand.
@Suite(.timeLimit(.minutes(2))) struct ClassifyCommandTests {
    static let fixtures = "\(Repository.root)/Tests/KinoModelsTests/Fixtures"

    /// JSON lines of a `--json` run: the windows, then the summary.
    func windows(_ output: String) throws -> (windows: [[String: Any]], summary: [String: Any]) {
        let objects = try output.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let summary = try #require(objects.last)
        #expect(summary["summary"] as? Bool == true)
        return (Array(objects.dropLast()), summary)
    }

    func scores(_ window: [String: Any]) throws -> [String: Float] {
        let labels = try #require(window["labels"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: labels.map { ($0["label"] as! String, Float(($0["score"] as! NSNumber).doubleValue)) })
    }

    @Test func vivitWindowsTileTheVideoAndScoreAsTheLibrary() throws {
        let model = "\(Self.fixtures)/vivit-a"   // 8 frames of 32×32, 6 labels
        let file = Repository.sample("vfr.mp4")   // 320×240, variable frame rate
        let r = try KinoBinary.run(["classify", file, "--model", model, "--json", "--top-k", "6", "--frame-stride", "2"])
        #expect(r.status == 0, "\(r.errors)")
        let (rows, summary) = try windows(r.output)
        let decoder = try VideoDecoder(path: file, options: VideoDecodeOptions(layout: .rgb24))
        let index = try decoder.frameIndex()
        // Span 2·7 + 1 = 15 frames, a window every 15: ⌈frames / 15⌉ windows, the last padded with the final frame.
        #expect(rows.count == (index.count + 14) / 15)
        for (k, row) in rows.enumerated() {
            let expected = (0..<8).map { min(15 * k + 2 * $0, index.count - 1) }
            #expect(row["frames"] as? [Int] == expected)
            #expect(abs((row["start"] as! Double) - index.seconds(15 * k)) < 1e-9)
        }
        #expect(summary["windows"] as? Int == rows.count)

        // Window 0 through the library: decode, ViViT's original preprocessing, forward, softmax.
        let network = try ModelRegistry.load(directory: model)
        let frames = try decoder.frames(at: (0..<8).map { 2 * $0 }).map { RGB8Image(width: $0.width, height: $0.height, pixels: $0.bytes) }
        let clip = VideoPreprocessor(cropSize: 32, range: .original).clip(frames)
        let logits = try #require(try network(clip.reshaped([1] + network.sampleShape)).logits)
        let want = network.probabilities(logits)[0]
        let got = try scores(rows[0])
        #expect(got.count == 6)
        for (i, label) in network.labels.enumerated() {
            #expect(abs((got[label] ?? -1) - want[i]) < 1e-5, "\(label)")
        }
        // The summary is the mean of the windows' probabilities.
        let all = try rows.map(scores)
        for (label, score) in try scores(summary) {
            let mean = all.map { $0[label]! }.reduce(0, +) / Float(all.count)
            #expect(abs(score - mean) < 1e-5, "\(label)")
        }
    }

    /// VideoMAE (and TimeSformer) take consecutive frames, as transformers' pipeline samples them,
    /// and the folder's preprocessing (ImageNet mean and std without a preprocessor_config.json).
    @Test func videoMAETakesConsecutiveFramesAndItsOwnPreprocessing() throws {
        let model = "\(Self.fixtures)/videomae-a"
        let file = Repository.sample("vfr.mp4")
        let r = try KinoBinary.run(["classify", file, "--model", model, "--json", "--top-k", "3"])
        #expect(r.status == 0, "\(r.errors)")
        let (rows, _) = try windows(r.output)
        let network = try ModelRegistry.load(directory: model)
        let length = network.sampleShape[0]
        #expect(rows.first?["frames"] as? [Int] == Array(0..<length))
        let decoder = try VideoDecoder(path: file, options: VideoDecodeOptions(layout: .rgb24))
        let frames = try decoder.frames(at: Array(0..<length)).map { RGB8Image(width: $0.width, height: $0.height, pixels: $0.bytes) }
        let clip = try VideoPreprocessor.forModel(network, directory: model).clip(frames)
        let want = network.probabilities(try #require(try network(clip.reshaped([1] + network.sampleShape)).logits))[0]
        let got = try scores(rows[0])
        for (i, label) in network.labels.enumerated() where got[label] != nil {
            #expect(abs(got[label]! - want[i]) < 1e-5, "\(label)")
        }
        #expect(got.count == min(3, network.labels.count))
    }

    @Test func astWindowsFollowTheHopAndScoreAsTheLibrary() throws {
        let model = "\(Self.fixtures)/ast-a"
        let file = Repository.sample("speech.wav")
        let r = try KinoBinary.run(["classify", file, "--model", model, "--json", "--top-k", "100", "--hop", "1"])
        #expect(r.status == 0, "\(r.errors)")
        let (rows, _) = try windows(r.output)
        let network = try #require(try ModelRegistry.load(directory: model) as? ASTForAudioClassification)
        let audio = try AudioDecoder.decodeAll(path: file, sampleRate: 16000, mono: true)
        var options = ASTFeatureExtractor.Options()
        options.maxLength = network.configuration.maximumLength
        options.numMelBins = network.configuration.numberOfMelBins
        // Windows that start past the last fbank frame (the extractor's plan keeps one when the
        // hop exceeds the window) are all padding and are not classified.
        let windows = try ASTFeatureExtractor(options: options).windows(audio.samples, hopFrames: 100).filter { $0.validFrames > 0 }
        #expect(rows.count == windows.count && rows.count > 1)
        for (k, row) in rows.enumerated() {
            #expect(abs((row["start"] as! Double) - Double(k)) < 1e-6)   // one window per second
        }
        let last = windows.count - 1
        let input = Tensor(shape: [1] + network.sampleShape, values: windows[last].features.values)
        let want = network.probabilities(try #require(try network(input).logits))[0]
        let got = try scores(rows[last])
        #expect(got.count == network.labels.count)
        for (i, label) in network.labels.enumerated() {
            #expect(abs((got[label] ?? -1) - want[i]) < 1e-5, "\(label)")   // sigmoid scores, multi-label
        }
    }

    @Test func badInputNamesTheFile() throws {
        let missing = try KinoBinary.run(["classify", "/nonexistent/v.mp4", "--model", "\(Self.fixtures)/vivit-a"])
        #expect(missing.status == 1 && missing.errors.contains("/nonexistent/v.mp4"))
        let noModel = try KinoBinary.run(["classify", Repository.sample("clip720.mp4"), "--model", "/nonexistent/model"])
        #expect(noModel.status == 1 && noModel.errors.contains("/nonexistent/model"))
        let silent = try KinoBinary.run(["classify", Repository.sample("longgop.mp4"), "--model", "\(Self.fixtures)/ast-a"])
        #expect(silent.status == 1 && silent.errors.contains("longgop.mp4"))
        let backbone = try KinoBinary.run(["classify", Repository.sample("vfr.mp4"), "--model", "\(Self.fixtures)/vit-c-backbone"])
        #expect(backbone.status == 1 && backbone.errors.contains("vfr.mp4: stage 'classify': ViTModel is not a classifier"), "\(backbone.errors)")
        // An empty WAV gets no window of padding labelled with confidence: it says there is nothing.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kino-classify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.wav").path
        try TinyMedia.writeWAV(to: empty, seconds: 0, sampleRate: 16000)
        let nothing = try KinoBinary.run(["classify", empty])
        #expect(nothing.status == 1 && nothing.errors.contains("empty.wav: nothing to classify"), "\(nothing.errors)")
        #expect(!nothing.output.contains("noise"))
    }
}
