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
        discussion: "Any registered model_type. Kino's compact transformers (kino-cct) get CCT's initialisation (Kaiming-normal tokenizer, normal 0.02 linears, position table 0.2); the others Hugging Face's normal(0.02). The folder is written under a temporary name, then renamed.")

    @Argument(help: "A config.json (with model_type and id2label).") var config: String
    @Option(help: "Seed of the initial weights.") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output folder (must not exist).") var output: String

    func run() throws {
        do {
            guard !FileManager.default.fileExists(atPath: output) else { throw ValidationError("\(output) already exists") }
            let data = try Data(contentsOf: URL(fileURLWithPath: config))
            let model = try ModelRegistry.initialise(configuration: data, seed: seed, path: config)
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
