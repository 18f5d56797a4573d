import Foundation
import KinoModels

/// Stage kinds that run KinoModels classifiers.
enum ModelKinds {
    static let all: [StageKind] = [vivit, ast, vit]

    /// Options both classifiers take; `pixelRange` only ViViT.
    struct ClassifierOptions: StageOptionSet {
        var model: String?
        var adapter: String?
        var topK = 5, batch = 1, average = 1
        var summary = true
        var pixelRange = ViViTPixelRange.original
        static let schema: [OptionField<Self>] = [
            .string("model", \.model,
                    "model folder (config.json + model.safetensors); `shipped` for Kino's own model (kino-motion for vivit, kino-sounds for ast), an error when it is missing; `auto` for the shipped model when it is there, else the stage is off and says why; without it the stage is off and says so"),
            .string("adapter", \.adapter,
                    "adapter folder (adapter_config.json + adapter_model.safetensors: kino train's or PEFT's) attached to the model"),
            .int("top_k", \.topK, minimum: 1, "labels per event"),
            .int("batch", \.batch, minimum: 1, "inputs per forward pass"),
            .int("average", \.average, minimum: 1, "consecutive inputs whose probabilities are averaged into one event"),
            .bool("summary", \.summary, "emit a last event averaging every input of the run"),
        ]
    }

    struct VivitOptions: StageOptionSet {
        var common = ClassifierOptions()
        static let schema: [OptionField<Self>] = ClassifierOptions.schema.map { $0.lifted(\.common) } + [
            .choice("pixel_range", \.common.pixelRange,
                    "original: pixels in [-1, 1] (the converted checkpoints' recipe); hf: today's HF processor, [-3, 1]"),
        ]
    }

    static let vivit = StageKind(
        name: "vivit", summary: "Top-k labels of video clips from a ViViT, ViViT factorised-encoder, VideoMAE, TimeSformer or Kino compact video (kino-cct-video) checkpoint.",
        inputs: "clip", output: "event", options: VivitOptions.self) { v, c in
            let o = v.common
            let found = try load(o, stage: c.id, shipped: ModelLibrary.motion, accepting: [VivitForVideoClassification.self, ViViTFactorisedEncoder.self,
                                                             CompactVideoTransformer.self, VideoMAEForVideoClassification.self,
                                                             TimesformerForVideoClassification.self],
                                 what: "a ViViT, ViViT factorised-encoder, VideoMAE, TimeSformer or kino-cct-video")
            var preprocessor: VideoPreprocessor?
            if let model = found.model, let directory = found.directory {
                do {
                    preprocessor = try VideoPreprocessor.forModel(model, directory: directory, range: o.pixelRange)
                } catch {
                    throw GraphError.invalidOption(stage: c.id, option: "model", expected: "a folder whose preprocessor_config.json fits the model",
                                                   got: "\(directory) (\(error.localizedDescription))", line: nil)
                }
            }
            return VideoClassifierStage(id: c.id, model: found.model, name: found.name, offReason: found.offReason, topK: o.topK,
                                        batch: o.batch, average: o.average, summary: o.summary, range: o.pixelRange,
                                        preprocessor: preprocessor)
        }

    static let ast = StageKind(
        name: "ast", summary: "Top-k labels of AST windows from a spectrogram stage, with an AST or Kino compact-transformer (kino-cct) checkpoint.",
        inputs: "spectrogram", output: "event", options: ClassifierOptions.self) { o, c in
            let found = try load(o, stage: c.id, shipped: ModelLibrary.sounds,
                                 accepting: [ASTForAudioClassification.self, CompactTransformerForAudioClassification.self],
                                 what: "an AST or kino-cct")
            return AudioClassifierStage(id: c.id, model: found.model, name: found.name, offReason: found.offReason, topK: o.topK,
                                        batch: o.batch, average: o.average, summary: o.summary)
        }

    static let vit = StageKind(
        name: "vit", summary: "Top-k labels of single frames (sample's fps mode) from a ViT image-classification checkpoint, preprocessed as its preprocessor_config.json says.",
        inputs: "video", output: "event", options: ClassifierOptions.self) { o, c in
            let found = try load(o, stage: c.id, shipped: "", accepting: [ViTForImageClassification.self], what: "a ViT")
            var configuration: ImageProcessorConfiguration?
            if let model = found.model, let directory = found.directory {
                do {
                    configuration = try ImageProcessorConfiguration.load(directory: directory, imageSize: model.sampleShape.last!)
                } catch {
                    throw GraphError.invalidOption(stage: c.id, option: "model", expected: "a folder with a readable preprocessor_config.json (or none)",
                                                   got: "\(directory) (\(error.localizedDescription))", line: nil)
                }
            }
            return ImageClassifierStage(id: c.id, model: found.model, configuration: configuration, name: found.name,
                                        offReason: found.offReason, topK: o.topK, batch: o.batch, average: o.average, summary: o.summary)
        }

    /// The model of option `model` and its name, or no model and why (the stage is then off).
    private static func load(_ o: ClassifierOptions, stage: String, shipped: String, accepting types: [any KinoModel.Type],
                             what: String) throws -> (model: (any KinoModel)?, name: String?, offReason: String?, directory: String?) {
        guard var directory = o.model else { return (nil, nil, nil, nil) }
        var name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        if directory == "shipped" || directory == "auto" {
            guard !shipped.isEmpty else {
                throw GraphError.invalidOption(stage: stage, option: "model", expected: "a model folder (Kino ships no \(what) model)",
                                               got: directory, line: nil)
            }
            let library = ModelLibrary.standard()
            guard let found = library.directory(for: shipped) else {
                let searched = library.directories.joined(separator: ", ")
                if directory == "auto" {
                    return (nil, nil, "no shipped \(shipped) model (searched \(searched); `make models` trains it); nothing was classified", nil)
                }
                throw GraphError.invalidOption(stage: stage, option: "model", expected: "the shipped \(shipped) model in one of \(searched)",
                                               got: "shipped (not found; `make models` trains it)", line: nil)
            }
            directory = found
            name = shipped
        }
        var model: any KinoModel
        do {
            model = try ModelRegistry.load(directory: directory)
        } catch {
            throw GraphError.invalidOption(stage: stage, option: "model", expected: "a loadable model folder",
                                           got: "\(directory) (\(error.localizedDescription))", line: nil)
        }
        guard types.contains(where: { type(of: model) == $0 }) else {
            throw GraphError.invalidOption(stage: stage, option: "model", expected: "\(what) checkpoint",
                                           got: "\(directory) (\(model.architecture))", line: nil)
        }
        if let adapter = o.adapter {
            do {
                try AdapterFolder.load(adapter, into: &model)
            } catch {
                throw GraphError.invalidOption(stage: stage, option: "adapter", expected: "an adapter folder for \(directory)",
                                               got: "\(adapter) (\(error.localizedDescription))", line: nil)
            }
        }
        return (model, name, nil, directory)
    }
}
