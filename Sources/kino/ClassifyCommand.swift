import ArgumentParser
import Foundation
import KinoDSP
import KinoGraph
import KinoMedia
import KinoModels
import KinoTensor

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Label a video (ViViT, ViViT factorised encoder, ViT) or audio (AST) file, window by window.",
        discussion: """
            Clip models see windows of T frames (T from the model) taken --frame-stride apart; a new window starts \
            every --clip-stride frames (default: one window span, so windows tile the file). The last window repeats \
            the final frame when the file runs out. ViT classifies single frames taken --fps per second. Each \
            window prints its top labels (softmax); the summary averages the windows' probabilities. \
            With an AST checkpoint the file's audio is decoded at 16 kHz mono and cut into windows of the model's \
            max_length fbank frames (10.24 s) every --hop seconds, featurised as Hugging Face's ASTFeatureExtractor; \
            scores are sigmoids (AudioSet is multi-label).
            """)

    @Argument(help: "The video file.") var file: String
    @Option(help: "The model folder (config.json + model.safetensors). Without it, the models shipped in models/ label the file's audio (kino-sounds) and video (kino-motion) streams.")
    var model: String?
    @Option(help: "An adapter folder (adapter_config.json + adapter_model.safetensors, PEFT's or kino train's) to attach.")
    var adapter: String?
    @Option(name: .customLong("top-k"), help: "Labels to print per window and overall.") var topK = 5
    @Option(help: "Clip models: frames between the frames of a clip.") var frameStride = 2
    @Option(help: "Clip models: frames between window starts (default: the window span).") var clipStride: Int?
    @Option(help: "ViT: frames per second to classify.") var fps = 1.0
    @Option(help: "ViViT pixel scaling: original ([-1, 1], the recipe the checkpoints were converted with) or hf ([-3, 1], today's HF processor).")
    var pixelRange = "original"
    @Option(help: "AST: seconds between window starts (default: the window length, 10.24 s).") var hop: Double?
    @Option(help: "Windows per forward pass.") var batch = 1
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object per window and one for the summary.") var json = false

    func validate() throws {
        guard topK > 0, frameStride > 0, batch > 0, fps > 0, (clipStride ?? 1) > 0, (hop ?? 1) >= 0.01 else {
            throw ValidationError("--top-k, --frame-stride, --clip-stride, --batch, --fps and --hop (≥ 0.01) must be positive")
        }
        guard ViViTPixelRange(rawValue: pixelRange) != nil else {
            throw ValidationError("--pixel-range must be original or hf")
        }
    }

    func run() throws {
        BLAS.useSingleThread()
        if let threads { Parallelism.workers = threads }
        do {
            guard let model else { return try classifyWithShippedModels() }
            try classify(with: ModelRegistry.load(directory: model), directory: model, name: nil)
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }

    /// The shipped models for the streams the file has: sounds for audio, camera motion for video.
    func classifyWithShippedModels() throws {
        if adapter != nil { throw ValidationError("--adapter needs --model (the base the adapter was trained on)") }
        let info = try MediaProbe.probe(file, scanPackets: false)
        let library = ModelLibrary.standard()
        var ran = 0
        var missing: [String] = []
        for (name, present) in [(ModelLibrary.motion, info.video != nil), (ModelLibrary.sounds, info.audio != nil)] where present {
            guard let directory = library.directory(for: name) else { missing.append(name); continue }
            if !json { print("\(name) (\(directory)):") }
            try classify(with: ModelRegistry.load(directory: directory), directory: directory, name: name)
            ran += 1
        }
        for name in missing { printWarning("\(file): no shipped \(name) model (searched \(library.directories.joined(separator: ", "))); its stream is not labelled") }
        if ran == 0 {
            throw CommandError(info.video == nil && info.audio == nil ? "\(file) has no audio or video stream"
                               : "no shipped model for the streams of \(file); give --model")
        }
    }

    /// Labels the file with one model (`name`, when it is a shipped one, goes into JSON lines).
    func classify(with base: any KinoModel, directory: String, name: String?) throws {
        do {
            let network = try loadAdapted(base: base, adapter: name == nil ? adapter : nil).model
            if let ast = network as? any FbankClassifier {
                try classifyAudio(ast, name: name)
                return
            }
            let decoder = try VideoDecoder(path: file, options: VideoDecodeOptions(layout: .rgb24))
            let index = try decoder.frameIndex()
            guard index.count > 0 else { throw ValidationError("\(file) has no video frames") }
            let windows = plan(network, frames: index.count, rate: index)
            var rows: [[Float]] = []
            for group in stride(from: 0, to: windows.count, by: batch) {
                let part = Array(windows[group ..< min(windows.count, group + batch)])
                let input = try batchTensor(part, network: network, decoder: decoder, directory: directory)
                guard let logits = try network(input).logits else {
                    throw ValidationError("\(name ?? model ?? base.architecture) is a backbone without a classification head")
                }
                for (window, probabilities) in zip(part, network.probabilities(logits)) {
                    rows.append(probabilities)
                    report(window: window, labels: network.topLabels(probabilities, k: topK), index: index, model: name)
                }
            }
            summarise(network, rows, model: name)
            // Random access reads chosen frames only: how far it got says nothing of the file.
            var health = decoder.health
            health.expectedSeconds = nil
            try Self.refuseCleanSuccess(file, health)
        }
    }

    /// AST over fbank windows of the whole file's audio.
    private func classifyAudio(_ network: any FbankClassifier, name: String?) throws {
        let (audio, health) = try AudioDecoder.decodeAllReporting(path: file, sampleRate: 16000, mono: true)
        var options = ASTFeatureExtractor.Options()
        options.maxLength = network.windowFrames
        options.numMelBins = network.melBins
        let extractor = try ASTFeatureExtractor(options: options)
        let hopFrames = hop.map { max(1, Int(($0 * 100).rounded())) } ?? options.maxLength
        let windows = extractor.windows(audio.samples, hopFrames: hopFrames)
        var rows: [[Float]] = []
        for group in stride(from: 0, to: windows.count, by: batch) {
            let part = Array(windows[group ..< min(windows.count, group + batch)])
            let input = Tensor(shape: [part.count] + network.sampleShape, values: part.flatMap(\.features.values))
            let logits = try network(input).logits!
            for (window, probabilities) in zip(part, network.probabilities(logits)) {
                rows.append(probabilities)
                print(line(start: audio.seconds + window.startTime, end: audio.seconds + window.endTime, frames: nil,
                           labels: network.topLabels(probabilities, k: topK), model: name))
            }
        }
        summarise(network, rows, model: name)
        try Self.refuseCleanSuccess(file, health)
    }

    /// Labels of a damaged input were printed, but it is not a clean success: warn, exit 3.
    static func refuseCleanSuccess(_ file: String, _ health: DecodeHealth) throws {
        guard health.isDamaged else { return }
        printWarning("\(file): the input is damaged (\(health.description)); the labels cover what could be decoded; exit status 3")
        throw ExitCode(3)
    }

    /// Frame indices of every window; clip windows past the end repeat the last frame.
    private func plan(_ network: any KinoModel, frames total: Int, rate index: FrameIndex) -> [[Int]] {
        if network is ViTForImageClassification {
            let end = index.seconds(total - 1)
            var times: [Double] = []
            var t = index.seconds(0)
            while t <= end + 1e-9 {
                times.append(t)
                t += 1 / fps
            }
            return Array(Set(times.compactMap { index.frameIndex(atSeconds: $0) })).sorted().map { [$0] }
        }
        let length = network.sampleShape[0]
        let span = frameStride * (length - 1) + 1
        let step = clipStride ?? span
        return stride(from: 0, to: max(1, total - span + step), by: step).map { start in
            (0..<length).map { min(start + $0 * frameStride, total - 1) }
        }
    }

    /// `[B] + sampleShape` for the windows, preprocessed as the architecture's reference does.
    private func batchTensor(_ windows: [[Int]], network: any KinoModel, decoder: VideoDecoder, directory: String) throws -> Tensor {
        let size = network.sampleShape.last!
        if network is ViTForImageClassification {
            let config = try ImageProcessorConfiguration.load(directory: directory, imageSize: size)
            let images = try windows.map { try image(decoder.frame(at: $0[0])) }
            return ImagePreprocessor(configuration: config).pixelValues(images)
        }
        let pre = VideoPreprocessor(cropSize: size, range: ViViTPixelRange(rawValue: pixelRange)!)
        let clips = try windows.map { window -> Tensor in
            let frames = try decoder.frames(at: window)
            return pre.clip(frames.map(image))
        }
        return Tensor.concatenate(clips).reshaped([windows.count] + network.sampleShape)
    }

    private func image(_ frame: VideoFrame) -> RGB8Image {
        RGB8Image(width: frame.width, height: frame.height, pixels: frame.bytes)
    }

    private func report(window: [Int], labels: [LabelScore], index: FrameIndex, model: String?) {
        let start = index.seconds(window.first!)
        let last = window.last!
        let end = last + 1 < index.count ? index.seconds(last + 1) : index.seconds(last) + index.timeBase.seconds(max(0, index.entries[last].duration))
        print(line(start: start, end: end, frames: window, labels: labels, model: model))
    }

    /// One window's line, text or JSON.
    private func line(start: Double, end: Double, frames: [Int]?, labels: [LabelScore], model: String?) -> String {
        if json {
            let entries = labels.map { #"{"label":\#(quoted($0.label)),"score":\#($0.score)}"# }
            let framesField = frames.map { #""frames":\#($0),"# } ?? ""
            let modelField = model.map { #""model":\#(quoted($0)),"# } ?? ""
            return #"{\#(modelField)"start":\#(start),"end":\#(end),\#(framesField)"labels":[\#(entries.joined(separator: ","))]}"#
        }
        let text = labels.map { $0.label + " " + String(format: "%.3f", $0.score) }.joined(separator: ", ")
        return String(format: "%8.3f–%8.3f s  ", start, end) + text
    }

    /// The mean of every window's probabilities, top-k.
    private func summarise(_ network: any KinoModel, _ rows: [[Float]], model: String?) {
        let overall = network.topLabels(meanProbabilities(rows), k: topK)
        if json {
            let entries = overall.map { #"{"label":\#(quoted($0.label)),"score":\#($0.score)}"# }
            let modelField = model.map { #""model":\#(quoted($0)),"# } ?? ""
            print(#"{\#(modelField)"summary":true,"windows":\#(rows.count),"labels":[\#(entries.joined(separator: ","))]}"#)
        } else {
            print("overall (\(rows.count) windows, mean \(network.scoring.rawValue) probability):")
            for entry in overall { print("  " + String(format: "%.4f", entry.score) + "  " + entry.label) }
        }
    }

    private func quoted(_ s: String) -> String {
        String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
    }
}
