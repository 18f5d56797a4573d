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
        abstract: "Label a video (ViViT, ViViT factorised encoder, VideoMAE, TimeSformer, ViT, Kino's compact models) or audio (AST, kino-cct) file, window by window.",
        discussion: """
            Clip models see windows of T frames (T from the model) taken --frame-stride apart; a new window starts \
            every --clip-stride frames (default: one window span, so windows tile the file). The last window repeats \
            the final frame when the file runs out. ViT classifies single frames taken --fps per second. Each \
            window prints its top labels (softmax); the summary averages the windows' probabilities. \
            With an AST checkpoint the file's audio is decoded at 16 kHz mono and cut into windows of the model's \
            max_length fbank frames (10.24 s) every --hop seconds, featurised as Hugging Face's ASTFeatureExtractor; \
            scores are sigmoids (AudioSet is multi-label). The windows are cut, preprocessed and scored by the same \
            stages `kino process` runs (decode, sample or spectrogram, then the vivit or ast stage), so labels here \
            equal labels.jsonl's for the same options; the summary also lists the main labels (those that win at \
            least a tenth of the windows).
            """)

    @Argument(help: "The video file.") var file: String
    @Option(help: "The model folder (config.json + model.safetensors). Without it, the models shipped in models/ label the file's audio (kino-sounds) and video (kino-motion) streams.")
    var model: String?
    @Option(help: "An adapter folder (adapter_config.json + adapter_model.safetensors, PEFT's or kino train's) to attach.")
    var adapter: String?
    @Option(name: .customLong("top-k"), help: "Labels to print per window and overall.") var topK = 5
    @Option(help: "Clip models: frames between the frames of a clip (default: 1 for VideoMAE and TimeSformer, as transformers' pipeline samples; 2 for ViViT and Kino's models).")
    var frameStride: Int?
    @Option(help: "Clip models: frames between window starts (default: the window span).") var clipStride: Int?
    @Option(help: "ViT: frames per second to classify.") var fps = 1.0
    @Option(help: "ViViT pixel scaling: original ([-1, 1], the recipe the checkpoints were converted with) or hf ([-3, 1], today's HF processor).")
    var pixelRange = "original"
    @Option(help: "AST: seconds between window starts (default: the window length, 10.24 s).") var hop: Double?
    @Option(help: "Windows per forward pass.") var batch = 1
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object per window and one for the summary.") var json = false

    func validate() throws {
        guard topK > 0, (frameStride ?? 1) > 0, batch > 0, fps > 0, (clipStride ?? 1) > 0, (hop ?? 1) >= 0.01 else {
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

    /// Labels the file with one model (`name`, when it is a shipped one, goes into JSON lines),
    /// through the library's ``FileClassifier``: the same stages `kino process` runs.
    func classify(with base: any KinoModel, directory: String, name: String?) throws {
        let network = try loadAdapted(base: base, adapter: name == nil ? adapter : nil).model
        var options = FileClassifier.Options()
        options.topK = topK
        options.batch = batch
        options.frameStride = frameStride
        options.clipStride = clipStride
        options.hopSeconds = hop
        options.fps = fps
        options.pixelRange = ViViTPixelRange(rawValue: pixelRange)!
        if let threads { options.slots = threads }
        let classifier = FileClassifier(model: network, directory: directory, name: name, options: options)
        let json = self.json
        let result = try classifier.classify(file) { window in
            print(Self.line(start: window.start, end: window.end, frames: window.frames, labels: window.labels, model: name, json: json))
        }
        guard result.windows > 0 else {
            throw CommandError("\(file): nothing to classify: no video frame decoded, or less audio than one 25 ms fbank frame")
        }
        summarise(network, result, model: name)
        if let health = result.health { try Self.refuseCleanSuccess(file, health) }
    }

    /// Labels of a damaged input were printed, but it is not a clean success: warn, exit 3.
    static func refuseCleanSuccess(_ file: String, _ health: DecodeHealth) throws {
        guard health.isDamaged else { return }
        printWarning("\(file): the input is damaged (\(health.description)); the labels cover what could be decoded; exit status 3")
        throw ExitCode(3)
    }

    /// One window's line, text or JSON.
    static func line(start: Double, end: Double, frames: [Int]?, labels: [LabelScore], model: String?, json: Bool) -> String {
        if json {
            let entries = labels.map { #"{"label":\#(quoted($0.label)),"score":\#($0.score)}"# }
            let framesField = frames.map { #""frames":\#($0),"# } ?? ""
            let modelField = model.map { #""model":\#(quoted($0)),"# } ?? ""
            return #"{\#(modelField)"start":\#(start),"end":\#(end),\#(framesField)"labels":[\#(entries.joined(separator: ","))]}"#
        }
        let text = labels.map { $0.label + " " + String(format: "%.3f", $0.score) }.joined(separator: ", ")
        return String(format: "%8.3f–%8.3f s  ", start, end) + text
    }

    /// The mean of every window's probabilities, top-k, and the file's main labels.
    private func summarise(_ network: any KinoModel, _ result: FileClassifier.Result, model: String?) {
        let overall = result.summary
        if json {
            let entries = overall.map { #"{"label":\#(Self.quoted($0.label)),"score":\#($0.score)}"# }
            let modelField = model.map { #""model":\#(Self.quoted($0)),"# } ?? ""
            let main = (result.main?.labels ?? []).map {
                #"{"label":\#(Self.quoted($0.label)),"share":\#($0.share),"seconds":\#($0.seconds)}"#
            }
            print(#"{\#(modelField)"summary":true,"windows":\#(result.windows),"labels":[\#(entries.joined(separator: ","))],"main":[\#(main.joined(separator: ","))]}"#)
        } else {
            print("overall (\(result.windows) windows, mean \(network.scoring.rawValue) probability):")
            for entry in overall { print("  " + String(format: "%.4f", entry.score) + "  " + entry.label) }
            if let main = result.main?.labels, !main.isEmpty {
                print("main labels: " + main.map { "\($0.label) (\(Int(($0.share * 100).rounded())) % of windows)" }.joined(separator: ", "))
            }
        }
    }

    static func quoted(_ s: String) -> String {
        String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
    }
}
