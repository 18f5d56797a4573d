// model-bench: times one KinoModels forward pass per request, for Benchmarks/model_bench.py.
//
// Usage: model-bench --model DIR --input IN.safetensors --output OUT.safetensors [--threads N]
// Loads the model and input, runs one warm-up pass, writes its logits and last_hidden_state to
// OUT, prints "ready", then answers each "run" line on stdin with the wall time of one forward
// pass in milliseconds, until "quit" or end of input. The driver alternates these requests with
// PyTorch rounds so both see the same machine load.
import Foundation
import KinoModels
import KinoTensor

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("model-bench: \(message)\n".utf8))
    exit(1)
}

/// One unbuffered line on standard output (the driver waits for it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { fail("expected --flag value, got \(flag)") }
    options[String(flag.dropFirst(2))] = value
}
guard let directory = options["model"], let inputPath = options["input"], let outputPath = options["output"] else {
    fail("usage: model-bench --model DIR --input IN.safetensors --output OUT.safetensors [--threads N]")
}
BLAS.useSingleThread()
if let threads = options["threads"].flatMap(Int.init) { Parallelism.workers = threads }

do {
    let model = try ModelRegistry.load(directory: directory)
    let file = try SafeTensorsFile(path: inputPath)
    let input = try file.tensor(model.inputName)
    let first = try model(input)
    var tensors = ["last_hidden_state": first.lastHiddenState]
    if let logits = first.logits { tensors["logits"] = logits }
    try SafeTensorsWriter.write(tensors, to: outputPath)
    say("ready \(model.architecture) \(model.parameterCount) parameters, workers \(Parallelism.workers)")
    while let line = readLine(), line != "quit" {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try model(input)
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        say(String(format: "%.3f", milliseconds))
    }
} catch {
    fail((error as? any LocalizedError)?.errorDescription ?? "\(error)")
}
