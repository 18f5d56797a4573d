import ArgumentParser
import Foundation
import KinoModels
import KinoTensor

/// The base model with an adapter attached, or unchanged without one.
func loadAdapted(base: any KinoModel, adapter: String?) throws -> (model: any KinoModel, loaded: LoadedAdapter?) {
    guard let adapter else { return (base, nil) }
    var model = base
    let loaded = try AdapterFolder.load(adapter, into: &model)
    return (model, loaded)
}

struct ModelMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold a LoRA or IA³ adapter into the base weights and write a plain Hugging Face model folder.",
        discussion: "The output (config.json + model.safetensors, legacy key names) loads in transformers and in Kino without the adapter and gives the adapted model's logits. Bottleneck, Conformer, prompt and prefix adapters are not linear changes of the weights and are refused.")

    @Option(help: "The base model folder.") var model: String
    @Option(help: "The adapter folder.") var adapter: String
    @Option(name: .shortAndLong, help: "The output model folder (must not exist).") var output: String

    func run() throws {
        do {
            if FileManager.default.fileExists(atPath: output) {
                throw ModelError.unwritable(path: output, reason: "already exists")
            }
            var (merged, loaded) = try loadAdapted(base: ModelRegistry.load(directory: model), adapter: adapter)
            try merged.mergeAdapters()
            merged.unfreeze(matching: .all)
            let temporary = output + ".incomplete"
            try? FileManager.default.removeItem(atPath: temporary)
            try merged.save(to: temporary)
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
            print("merged \(loaded!.peftType) (\(loaded!.spec.summary)) into \(merged.architecture): wrote \(output)")
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}
