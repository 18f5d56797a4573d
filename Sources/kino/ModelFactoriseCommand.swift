import ArgumentParser
import Foundation
import KinoModels

struct ModelFactoriseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factorise",
        abstract: "Make a ViViT factorised-encoder folder from a Hugging Face ViT checkpoint.",
        discussion: "The spatial transformer is the ViT; its patch kernel becomes a tubelet kernel (central-frame: the 2-D kernel at time index kt/2, zeros elsewhere, so the spatial stream is the ViT on frames kt/2, kt/2+kt, …; or average). The temporal transformer is loaded from --temporal (a safetensors file with temporal.* keys) or initialised as scenic does; the classifier starts at zero, so the folder's logits are all zero until it is trained.")

    @Option(help: "The HF ViT folder.") var vit: String
    @Option(help: "Frames per clip.") var frames = 32
    @Option(help: "Frames per tubelet (kt).") var tubeletFrames = 2
    @Option(help: "Temporal transformer blocks.") var temporalLayers = 4
    @Option(help: "Comma-separated class names of the new head.") var labels: String
    @Option(help: "Safetensors file with temporal.* weights to load.") var temporal: String?
    @Option(help: "Tubelet kernel: central-frame or average.") var kernel = "central-frame"
    @Option(help: "Seed of the temporal initialisation.") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output folder.") var output: String

    func validate() throws {
        guard frames > 0, tubeletFrames > 0, frames % tubeletFrames == 0, temporalLayers >= 0 else {
            throw ValidationError("--frames must be a positive multiple of --tubelet-frames")
        }
        guard TubeletKernelInit(rawValue: kernel) != nil else { throw ValidationError("--kernel must be central-frame or average") }
        guard !labels.split(separator: ",").isEmpty else { throw ValidationError("--labels needs at least one name") }
    }

    func run() throws {
        do {
            let model = try ViViTFactorisedEncoder.initialised(
                fromViT: vit, frames: frames, tubeletFrames: tubeletFrames, temporalLayers: temporalLayers,
                labels: labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                temporalWeights: temporal, kernelInit: TubeletKernelInit(rawValue: kernel)!, seed: seed)
            try model.save(to: output)
            print("wrote \(output): \(model.architecture), \(model.parameterCount.formatted()) parameters, "
                  + "\(model.labels.count) labels, input pixel_values [B, \(model.sampleShape.map(String.init).joined(separator: ", "))]")
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}
