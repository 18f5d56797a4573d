import ArgumentParser
import Foundation
import KinoModels
import KinoTensor

struct ModelGradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grad",
        abstract: "Run a forward pass, a loss and backward; write the loss and every gradient.",
        discussion: """
        The output holds `loss`, `grad.<key>` for every parameter (keys as in the checkpoint) and \
        `grad.<input name>`. Cross-entropy takes one class index per batch item (--labels 3,0,…); \
        BCE takes --labels as one class per item or a multi-hot `labels` tensor [B, classes] in the \
        input file. Dropout is off unless --train-mode. Hold the numbers against your own PyTorch.
        """)

    enum Loss: String, ExpressibleByArgument { case crossEntropy = "cross-entropy", bce }

    @Option(help: "The model folder.") var model: String
    @Option(help: "Input .safetensors with pixel_values or input_values (and, for BCE, optionally labels).") var input: String
    @Option(help: "Comma-separated class indices, one per batch item.") var labels: String?
    @Option(help: "Output .safetensors.") var output: String
    @Option(help: "cross-entropy or bce.") var loss: Loss = .crossEntropy
    @Option(help: "Label smoothing for cross-entropy (PyTorch's label_smoothing).") var labelSmoothing: Float = 0
    @Flag(help: "Record in training mode (dropout active).") var trainMode = false
    @Option(help: "Seed of the dropout stream in training mode.") var seed: UInt64 = 0
    @Option(help: "Worker threads for Kino's own parallel loops (default: all cores).") var threads: Int?

    func validate() throws {
        if loss == .crossEntropy && labels == nil { throw ValidationError("cross-entropy needs --labels (one class index per batch item)") }
        if labelSmoothing < 0 || labelSmoothing >= 1 { throw ValidationError("--label-smoothing must be in [0, 1)") }
    }

    func run() throws {
        BLAS.useSingleThread()
        if let threads { Parallelism.workers = threads }
        do {
            let network = try ModelRegistry.load(directory: model)
            let file = try SafeTensorsFile(path: input)
            guard file.entries[network.inputName] != nil else {
                throw ValidationError("\(input) has no \(network.inputName) (tensors: \(file.names.joined(separator: ", ")))")
            }
            let x = try file.tensor(network.inputName)
            try network.checkInput(x)
            let batch = x.shape[0]
            let indices = try labels.map { text in
                try text.split(separator: ",").map { part -> Int in
                    guard let i = Int(part.trimmingCharacters(in: .whitespaces)), (0..<network.labels.count).contains(i) else {
                        throw ValidationError("--labels: \"\(part)\" is not a class index in 0..<\(network.labels.count)")
                    }
                    return i
                }
            }
            if let indices, indices.count != batch {
                throw ValidationError("--labels has \(indices.count) entries for a batch of \(batch)")
            }
            let tape = Tape(mode: trainMode ? .training : .evaluation, random: SplitMix64Source.stream("dropout", seed: seed))
            var c = tape
            let xv = tape.input(x, requiresGradient: true)
            guard let logits = network.forward(xv, in: &c).logits else {
                throw ValidationError("\(model) is a backbone without a head: there are no logits to take a loss of")
            }
            let value: Tape.Variable
            switch loss {
            case .crossEntropy:
                guard let indices else { throw ValidationError("cross-entropy needs --labels") }
                value = c.crossEntropy(logits, labels: indices, labelSmoothing: labelSmoothing, divisor: nil)
            case .bce:
                let targets: Tensor
                if let indices {
                    var t = Tensor(zeros: [batch, network.labels.count])
                    for (i, label) in indices.enumerated() { t.storage[i * network.labels.count + label] = 1 }
                    targets = t
                } else if file.entries["labels"] != nil {
                    targets = try file.tensor("labels")
                    guard targets.shape == [batch, network.labels.count] else {
                        throw ValidationError("labels in \(input) has shape \(targets.shape), expected [\(batch), \(network.labels.count)]")
                    }
                } else {
                    throw ValidationError("bce needs --labels or a labels tensor in \(input)")
                }
                value = c.binaryCrossEntropy(logits, targets: targets, divisor: nil)
            }
            let start = Date()
            let gradients = tape.backward(from: value)
            var tensors: [String: Tensor] = ["loss": tape.tensor(value)]
            for (key, g) in gradients { tensors["grad." + key] = g }
            tensors["grad." + network.inputName] = tape.gradient(of: xv)
            try SafeTensorsWriter.write(tensors, metadata: ["model": network.architecture, "loss": loss.rawValue], to: output)
            print("\(network.architecture): loss \(tape.tensor(value).storage[0]); \(gradients.count) parameter gradients "
                  + "and grad.\(network.inputName) in \(String(format: "%.3f", Date().timeIntervalSince(start))) s backward; wrote \(output)")
        } catch let error as ValidationError {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}
