import KinoModels

/// Stage kinds that run KinoModels classifiers.
enum ModelKinds {
    static let all: [StageKind] = [vivit, ast]

    static let common: [OptionSpec] = [
        OptionSpec("model", .string, "model folder (config.json + model.safetensors); without it the stage is off and says so"),
        OptionSpec("top_k", .int, default: .int(5), minimum: 1, "labels per event"),
        OptionSpec("batch", .int, default: .int(1), minimum: 1, "inputs per forward pass"),
        OptionSpec("average", .int, default: .int(1), minimum: 1, "consecutive inputs whose probabilities are averaged into one event"),
        OptionSpec("summary", .bool, default: .bool(true), "emit a last event averaging every input of the run"),
    ]

    static let vivit = StageKind(
        name: "vivit", summary: "Top-k labels of video clips from a ViViT or ViViT factorised-encoder checkpoint.",
        inputs: "clip", output: "event",
        options: common + [
            OptionSpec("pixel_range", .choice(ViViTPixelRange.allCases.map(\.rawValue)), default: .string("original"),
                       "original: pixels in [-1, 1] (the converted checkpoints' recipe); hf: today's HF processor, [-3, 1]"),
        ]) { o, _ in
            let model = try load(o, accepting: [VivitForVideoClassification.self, ViViTFactorisedEncoder.self],
                                 what: "a ViViT or ViViT factorised-encoder")
            return VideoClassifierStage(id: o.stage, model: model, topK: o.int("top_k")!, batch: o.int("batch")!,
                                        average: o.int("average")!, summary: o.bool("summary")!,
                                        range: ViViTPixelRange(rawValue: o.string("pixel_range")!)!)
        }

    static let ast = StageKind(
        name: "ast", summary: "Top-k labels of AST windows from a spectrogram stage, with an AST checkpoint.",
        inputs: "spectrogram", output: "event", options: common) { o, _ in
            let model = try load(o, accepting: [ASTForAudioClassification.self], what: "an AST")
            return AudioClassifierStage(id: o.stage, model: model, topK: o.int("top_k")!, batch: o.int("batch")!,
                                        average: o.int("average")!, summary: o.bool("summary")!)
        }

    /// The model of option `model`, or `nil` when it is absent (the stage is then off).
    private static func load(_ o: StageOptions, accepting types: [any KinoModel.Type], what: String) throws -> (any KinoModel)? {
        guard let directory = o.string("model") else { return nil }
        let model: any KinoModel
        do {
            model = try ModelRegistry.load(directory: directory)
        } catch {
            throw GraphError.invalidOption(stage: o.stage, option: "model", expected: "a loadable model folder",
                                           got: "\(directory) (\(error.localizedDescription))", line: nil)
        }
        guard types.contains(where: { type(of: model) == $0 }) else {
            throw GraphError.invalidOption(stage: o.stage, option: "model", expected: "\(what) checkpoint",
                                           got: "\(directory) (\(model.architecture))", line: nil)
        }
        return model
    }
}
