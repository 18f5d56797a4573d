import ArgumentParser
import Foundation
import KinoFiles
import KinoModels
import KinoTensor

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect and run transformer checkpoints (ViT, ViViT, ViViT factorised encoder, AST).",
        discussion: "A model is a Hugging Face folder: config.json and model.safetensors with the legacy key names.",
        subcommands: [ModelInfoCommand.self, ModelRunCommand.self, ModelEvalCommand.self, ModelInitCommand.self, ModelMergeCommand.self, ModelGradCommand.self, ModelFactoriseCommand.self])
}

struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Architecture, parameter count, input shape and labels of a model folder.")

    @Argument(help: "The model folder.") var directory: String
    @Option(help: "An adapter folder (adapter_config.json + adapter_model.safetensors) to attach.") var adapter: String?
    @Option(help: "Labels to list (0 = all).") var labels: Int = 20

    func validate() throws {
        guard labels >= 0 else { throw ValidationError("--labels must be 0 (all) or more, not \(labels)") }
    }

    func run() throws {
        do {
            let base = try ModelRegistry.load(directory: directory)
            let (model, loaded) = try loadAdapted(base: base, adapter: adapter)
            print("model: \(directory)")
            print("model_type: \(try ModelRegistry.modelType(directory: directory))")
            print("architecture: \(model.architecture)")
            print("parameters: \(model.parameterCount.formatted()) in \(model.allParameters.count) tensors")
            if let loaded {
                let trainable = model.trainableParameterCount
                print("adapter: \(adapter!) (\(loaded.peftType), \(loaded.spec.summary), \(loaded.naming.rawValue) names, \(loaded.tensorCount) tensors)")
                print("trainable: \(trainable.formatted()) of \(model.parameterCount.formatted()) ("
                      + String(format: "%.3f", 100 * Double(trainable) / Double(max(1, base.parameterCount))) + "% of the base model)")
            }
            print("input: \(model.inputName) [B, \(model.sampleShape.map(String.init).joined(separator: ", "))]")
            print("scoring: \(model.scoring.rawValue)")
            let shown = labels == 0 ? model.labels.count : min(labels, model.labels.count)
            print("labels: \(model.labels.count)" + (model.labels.isEmpty ? " (backbone, no head)" : ""))
            for (i, label) in model.labels.prefix(shown).enumerated() { print("  \(i)\t\(label)") }
            if shown < model.labels.count { print("  … \(model.labels.count - shown) more") }
            if !model.unusedKeys.isEmpty {
                printWarning("\(model.unusedKeys.count) checkpoint keys unused: "
                             + model.unusedKeys.prefix(10).joined(separator: ", "))
            }
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}

struct ModelRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on a safetensors input and write logits and last_hidden_state.",
        discussion: "The input file holds pixel_values ([B, C, H, W] for ViT, [B, T, C, H, W] for ViViT) or input_values ([B, T, 128] fbank features for AST), as the Hugging Face model takes them. The output has logits (when the model has a head), last_hidden_state and, where defined, pooler_output.")

    @Option(help: "The model folder.") var model: String
    @Option(help: "An adapter folder to attach.") var adapter: String?
    @Option(help: "Input .safetensors with pixel_values or input_values.") var input: String
    @Option(help: "Output .safetensors.") var output: String
    @Flag(help: "ViT only: resize the position table to the input size (HF interpolate_pos_encoding).")
    var interpolatePositions = false
    @Option(help: "Worker threads for Kino's own parallel loops (default: all cores).") var threads: Int?

    func run() throws {
        BLAS.useSingleThread()
        if let threads { Parallelism.workers = threads }
        do {
            // Refuse a device or folder at the output before any work.
            _ = try AtomicFile.destination(output)
            let network = try loadAdapted(base: ModelRegistry.load(directory: model), adapter: adapter).model
            let file = try SafeTensorsFile(path: input)
            let name = file.entries[network.inputName] != nil ? network.inputName
                : file.names.count == 1 ? file.names[0] : network.inputName
            guard file.entries[name] != nil else {
                // The command line was right; the file's contents are not: a data error (1), not usage (64).
                printError(ModelInputError(message: "\(input): has no tensor '\(network.inputName)' (it holds: \(file.names.joined(separator: ", ")))"))
                throw ExitCode(1)
            }
            let values = try file.tensor(name)
            let start = Date()
            let result: ModelOutput
            if interpolatePositions, let vit = network as? ViTForImageClassification {
                result = try vit.forward(values, interpolatePositionEncoding: true)
            } else if interpolatePositions, let vit = network as? ViTModel {
                result = try vit.forward(values, interpolatePositionEncoding: true)
            } else {
                result = try network(values)
            }
            let seconds = Date().timeIntervalSince(start)
            var tensors = ["last_hidden_state": result.lastHiddenState]
            if let logits = result.logits { tensors["logits"] = logits }
            if let pooled = result.pooled { tensors["pooler_output"] = pooled }
            try SafeTensorsWriter.write(tensors, metadata: ["model": network.architecture], to: output)
            let shapes = tensors.keys.sorted().map { "\($0) \(tensors[$0]!.shape)" }.joined(separator: ", ")
            print("\(network.architecture): \(name) \(values.shape) → \(shapes) in \(String(format: "%.3f", seconds)) s; wrote \(output)")
        } catch let error as ExitCode {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}

/// A model input file without the tensor the model takes.
struct ModelInputError: Error, LocalizedError {
    var message: String
    var errorDescription: String? { message }
}
