// train-bench: times Kino training steps (forward, backward, AdamW) for Benchmarks/train_bench.py.
//
// Usage: train-bench --model DIR --case full|temporal --batch B --steps N [--threads T]
//   full:     every parameter trains; input [B] + sampleShape, random, labels i % classes.
//   temporal: a factorised encoder with the spatial transformer frozen, trained on cached spatial
//             features [B, nT, D] (the temporal transformer and head train).
// Prints one line per step ("step MS"), then "peak_rss_mb X" (VmHWM).
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
guard let directory = options["model"], let mode = options["case"], let batch = options["batch"].flatMap(Int.init),
      let steps = options["steps"].flatMap(Int.init) else {
    fail("usage: train-bench --model DIR --case full|temporal --batch B --steps N [--threads T]")
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

do {
    var optimizer = AdamW(weightDecay: 0.01)
    switch mode {
    case "full":
        var model = try ModelRegistry.load(directory: directory)
        var r = SplitMix64Source(seed: 1)
        let input = r.normal([batch] + model.sampleShape)
        let labels = (0..<batch).map { $0 % model.labels.count }
        for _ in 0..<steps {
            let ms = step(&model, &optimizer, labels: labels) { m, tape in
                var c = tape
                return m.forward(tape.constant(input), in: &c).logits!
            }
            print(String(format: "step %.3f", ms))
        }
    case "temporal":
        guard var model = try ModelRegistry.load(directory: directory) as? ViViTFactorisedEncoder else { fail("temporal needs a factorised encoder") }
        model.freeze(matching: "spatial.*")
        var r = SplitMix64Source(seed: 1)
        let features = r.normal([batch, model.configuration.grid[0], model.configuration.common.hiddenSize])
        let labels = (0..<batch).map { $0 % model.labels.count }
        for _ in 0..<steps {
            let ms = step(&model, &optimizer, labels: labels) { m, tape in
                var c = tape
                return m.temporalForward(tape.constant(features), in: &c).logits!
            }
            print(String(format: "step %.3f", ms))
        }
    default:
        fail("unknown case \(mode)")
    }
    print(String(format: "peak_rss_mb %.1f", peakRSS()))
} catch {
    fail((error as? any LocalizedError)?.errorDescription ?? "\(error)")
}
