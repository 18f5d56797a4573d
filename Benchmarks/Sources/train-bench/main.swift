// train-bench: times Kino training steps (forward, backward, AdamW) for Benchmarks/train_bench.py.
//
// Usage: train-bench --model DIR --case full|lora|temporal --batch B [--threads T] [--recompute 1]
//   full:     every parameter trains; input [B] + sampleShape, random, labels i % classes.
//   lora:     an AST with every weight frozen and LoRA r=8, alpha 16 on query and value (A, B train).
//   temporal: a factorised encoder with the spatial transformer frozen, trained on cached spatial
//             features [B, nT, D] (the temporal transformer and head train).
// Prints "ready", then answers each "run" line on stdin with one step's wall time in
// milliseconds, and "rss" with its peak RSS in MB (VmHWM), until "quit": the driver alternates
// these requests with PyTorch's so both see the same machine load.
import Foundation
import KinoModels
import KinoOptim
import KinoTensor

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("train-bench: \(message)\n".utf8))
    exit(1)
}

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { fail("expected --flag value, got \(flag)") }
    options[String(flag.dropFirst(2))] = value
}
guard let directory = options["model"], let mode = options["case"], let batch = options["batch"].flatMap(Int.init) else {
    fail("usage: train-bench --model DIR --case full|temporal --batch B [--threads T]")
}

/// One unbuffered line on standard output (the driver waits for it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Answers "run" with `body()`'s milliseconds and "rss" with the peak RSS.
func serve(_ body: () -> Double) {
    say("ready")
    while let line = readLine(), line != "quit" {
        say(line == "rss" ? String(format: "%.1f", peakRSS()) : String(format: "%.3f", body()))
    }
}
BLAS.useSingleThread()
if let threads = options["threads"].flatMap(Int.init) { Parallelism.workers = threads }

func peakRSS() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
    return 0
}

func step<M: ParameterContainer>(_ model: inout M, _ optimizer: inout AdamW, labels: [Int],
                                 _ forward: (M, Tape) -> Tape.Variable) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    let tape = Tape(mode: .training)
    var c = tape
    let loss = c.crossEntropy(forward(model, tape), labels: labels, labelSmoothing: 0, divisor: nil)
    let gradients = tape.backward(from: loss)
    optimizer.update(&model, gradients: gradients, learningRate: 1e-4)
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// Steps of `model` on a random batch `[batch] + sampleShape` with labels `i % classes`.
func serveClassifier<M: KinoModel>(_ model: inout M, _ optimizer: inout AdamW) {
    var r = SplitMix64Source(seed: 1)
    let input = r.normal([batch] + model.sampleShape)
    let labels = (0..<batch).map { $0 % model.labels.count }
    serve {
        step(&model, &optimizer, labels: labels) { m, tape in
            var c = tape
            return m.forward(tape.constant(input), in: &c).logits!
        }
    }
}

do {
    var optimizer = AdamW(weightDecay: 0.01)
    switch mode {
    case "full":
        var model = try ModelRegistry.load(directory: directory)
        if options["recompute"] == "1", var vit = model as? ViTForImageClassification {
            vit.vit.encoder.recomputesBlocks = true     // activation checkpointing per block
            model = vit
        }
        serveClassifier(&model, &optimizer)
    case "lora":
        guard var model = try ModelRegistry.load(directory: directory) as? ASTForAudioClassification else { fail("lora needs an AST") }
        model.freeze()
        var init_ = SplitMix64Source(seed: 2)
        for i in model.encoder.layers.indices {
            model.encoder.layers[i].query.delta = LowRankDelta(for: model.encoder.layers[i].query, rank: 8, alpha: 16, random: &init_)
            model.encoder.layers[i].value.delta = LowRankDelta(for: model.encoder.layers[i].value, rank: 8, alpha: 16, random: &init_)
        }
        serveClassifier(&model, &optimizer)
    case "temporal":
        guard var model = try ModelRegistry.load(directory: directory) as? ViViTFactorisedEncoder else { fail("temporal needs a factorised encoder") }
        model.freeze(matching: "spatial.*")
        var r = SplitMix64Source(seed: 1)
        let features = r.normal([batch, model.configuration.grid[0], model.configuration.common.hiddenSize])
        let labels = (0..<batch).map { $0 % model.labels.count }
        serve {
            step(&model, &optimizer, labels: labels) { m, tape in
                var c = tape
                return m.temporalForward(tape.constant(features), in: &c).logits!
            }
        }
    default:
        fail("unknown case \(mode)")
    }
} catch {
    fail((error as? any LocalizedError)?.errorDescription ?? "\(error)")
}
