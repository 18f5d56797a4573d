import ArgumentParser
import Foundation
import KinoMedia
import KinoModels
import KinoTensor

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Label a video with a ViViT, ViViT factorised-encoder or ViT checkpoint, window by window.",
        discussion: """
            Clip models see windows of T frames (T from the model) taken --frame-stride apart; a new window starts \
            every --clip-stride frames (default: one window span, so windows tile the file). The last window repeats \
            the final frame when the file runs out. ViT classifies single frames taken --fps per second. Each \
            window prints its top labels (softmax); the summary averages the windows' probabilities. \
            Audio files (AST) are not classified here yet: KinoDSP's fbank extractor is not on main; run \
            `kino model run` with input_values instead.
            """)

    @Argument(help: "The video file.") var file: String
    @Option(help: "The model folder (config.json + model.safetensors).") var model: String
    @Option(name: .customLong("top-k"), help: "Labels to print per window and overall.") var topK = 5
    @Option(help: "Clip models: frames between the frames of a clip.") var frameStride = 2
    @Option(help: "Clip models: frames between window starts (default: the window span).") var clipStride: Int?
    @Option(help: "ViT: frames per second to classify.") var fps = 1.0
    @Option(help: "ViViT pixel scaling: original ([-1, 1], the recipe the checkpoints were converted with) or hf ([-3, 1], today's HF processor).")
    var pixelRange = "original"
    @Option(help: "Windows per forward pass.") var batch = 1
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object per window and one for the summary.") var json = false

    func validate() throws {
        guard topK > 0, frameStride > 0, batch > 0, fps > 0, (clipStride ?? 1) > 0 else {
            throw ValidationError("--top-k, --frame-stride, --clip-stride, --batch and --fps must be positive")
        }
        guard ViViTPixelRange(rawValue: pixelRange) != nil else {
            throw ValidationError("--pixel-range must be original or hf")
        }
    }

    func run() throws {
        BLAS.useSingleThread()
        if let threads { Parallelism.workers = threads }
        do {
            let network = try ModelRegistry.load(directory: model)
            if network is ASTForAudioClassification {
                throw ValidationError("audio classification with AST needs KinoDSP's ASTFeatureExtractor, which is not on this branch yet; compute input_values and use `kino model run`")
            }
            let decoder = try VideoDecoder(path: file, options: VideoDecodeOptions(layout: .rgb24))
            let index = try decoder.frameIndex()
            guard index.count > 0 else { throw ValidationError("\(file) has no video frames") }
            let windows = plan(network, frames: index.count, rate: index)
            var rows: [[Float]] = []
            for group in stride(from: 0, to: windows.count, by: batch) {
                let part = Array(windows[group ..< min(windows.count, group + batch)])
                let input = try batchTensor(part, network: network, decoder: decoder)
                guard let logits = try network(input).logits else {
                    throw ValidationError("\(model) is a backbone without a classification head")
                }
                for (window, probabilities) in zip(part, network.probabilities(logits)) {
                    rows.append(probabilities)
                    report(window: window, labels: network.topLabels(probabilities, k: topK), index: index)
                }
            }
            let overall = network.topLabels(meanProbabilities(rows), k: topK)
            if json {
                let entries = overall.map { #"{"label":\#(quoted($0.label)),"score":\#($0.score)}"# }
                print(#"{"summary":true,"windows":\#(rows.count),"labels":[\#(entries.joined(separator: ","))]}"#)
            } else {
                print("overall (\(rows.count) windows, mean probability):")
                for entry in overall { print("  " + String(format: "%.4f", entry.score) + "  " + entry.label) }
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
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
    private func batchTensor(_ windows: [[Int]], network: any KinoModel, decoder: VideoDecoder) throws -> Tensor {
        let size = network.sampleShape.last!
        if network is ViTForImageClassification {
            let config = try ImageProcessorConfiguration.load(directory: model, imageSize: size)
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

    private func report(window: [Int], labels: [LabelScore], index: FrameIndex) {
        let start = index.seconds(window.first!)
        let last = window.last!
        let end = last + 1 < index.count ? index.seconds(last + 1) : index.seconds(last) + index.timeBase.seconds(max(0, index.entries[last].duration))
        if json {
            let entries = labels.map { #"{"label":\#(quoted($0.label)),"score":\#($0.score)}"# }
            print(#"{"start":\#(start),"end":\#(end),"frames":\#(window),"labels":[\#(entries.joined(separator: ","))]}"#)
        } else {
            let text = labels.map { $0.label + " " + String(format: "%.3f", $0.score) }.joined(separator: ", ")
            print(String(format: "%8.3f–%8.3f s  ", start, end) + text)
        }
    }

    private func quoted(_ s: String) -> String {
        String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
    }
}
