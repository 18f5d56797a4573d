import ArgumentParser
import Foundation
import KinoFiles
import KinoModels

/// `kino model init CONFIG -o DIR`: a model folder with freshly initialised weights, to train
/// from scratch with `kino train --method full`.
struct ModelInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a model folder with freshly initialised weights from a config.json, to train from scratch.",
        discussion: "Any registered model_type. Kino's compact transformers (kino-cct) get CCT's initialisation (Kaiming-normal tokenizer, normal 0.02 linears, position table 0.2); the others Hugging Face's normal(0.02). With --spatial-from, a kino-cct-video starts its spatial stream from a kino-cct-video trained on still images (ViViT's recipe with an image ViT: the first kernel inflated to the central frame of each tubelet, or averaged), and --temporal-init says where its temporal transformer starts. The folder is written under a temporary name, then renamed.")

    @Argument(help: "A config.json (with model_type and id2label).") var config: String
    @Option(help: "Seed of the initial weights.") var seed: UInt64 = 0
    @Option(help: "kino-cct-video: a kino-cct-video folder trained on stills whose spatial stream to start from.")
    var spatialFrom: String?
    @Option(help: "With --spatial-from: central-frame or average.") var kernel = "central-frame"
    @Option(help: "With --spatial-from: random, spatial (the image model's last spatial blocks) or image (its temporal blocks).")
    var temporalInit = "random"

    @Option(name: .shortAndLong, help: "Output folder (must not exist).") var output: String

    func run() throws {
        do {
            guard !FileManager.default.fileExists(atPath: output) else { throw ValidationError("\(output) already exists") }
            let data = try Data(contentsOf: URL(fileURLWithPath: config))
            let model: any KinoModel
            if let spatialFrom {
                guard let kernelInit = TubeletKernelInit(rawValue: kernel) else { throw ValidationError("--kernel must be central-frame or average") }
                guard let temporal = TemporalInit(rawValue: temporalInit) else {
                    throw ValidationError("--temporal-init must be \(TemporalInit.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let type = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["model_type"] as? String
                guard type == CompactVideoConfiguration.modelType else {
                    throw ValidationError("--spatial-from needs a \(CompactVideoConfiguration.modelType) config, not \(type ?? "one without model_type")")
                }
                let configuration = try JSONDecoder().decode(CompactVideoConfiguration.self, from: data)
                model = try CompactVideoTransformer.initialised(configuration: configuration, fromImageModel: spatialFrom,
                                                                kernelInit: kernelInit, temporalInit: temporal, seed: seed)
            } else {
                model = try ModelRegistry.initialise(configuration: data, seed: seed, path: config)
            }
            let temporary = AtomicFile.temporarySibling(of: output)
            try model.save(to: temporary)
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
            print("wrote \(output): \(model.architecture), \(model.parameterCount.formatted()) parameters, \(model.labels.count) labels, "
                  + "input \(model.inputName) [B, \(model.sampleShape.map(String.init).joined(separator: ", "))]")
        } catch let error as ValidationError {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}
