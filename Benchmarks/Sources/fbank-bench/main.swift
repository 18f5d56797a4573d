// Times KaldiFbank (AST settings) on a raw float32 file; driven by Benchmarks/fbank_bench.py.
//
// Usage: fbank-bench INPUT.f32 [RUNS] [OUTPUT.f32] [THREADS]
// Prints one JSON line: {"frames":…, "bins":…, "seconds":[…]} with the wall time of each run,
// excluding process start and file reading; writes the last run's features to OUTPUT if given.

import Foundation
import KinoDSP

let arguments = CommandLine.arguments
guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: fbank-bench INPUT.f32 [RUNS] [OUTPUT.f32] [THREADS]\n".utf8))
    exit(2)
}
let runs = arguments.count >= 3 ? Int(arguments[2]) ?? 7 : 7
let threads = arguments.count >= 5 ? Int(arguments[4]) ?? 1 : 1
let samples: [Float] = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }

let fbank = try KaldiFbank(options: .ast)
var result = fbank.compute(samples, threads: threads)   // warm-up: page in code and buffers
var seconds: [Double] = []
for _ in 0..<runs {
    let start = DispatchTime.now().uptimeNanoseconds
    result = fbank.compute(samples, threads: threads)
    seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
if arguments.count >= 4 && arguments[3] != "-" {
    let bytes = result.values.withUnsafeBufferPointer { Data(buffer: $0) }
    guard FileManager.default.createFile(atPath: arguments[3], contents: bytes) else {
        FileHandle.standardError.write(Data("fbank-bench: cannot write \(arguments[3])\n".utf8))
        exit(1)
    }
}
let list = seconds.map { String(format: "%.6f", $0) }.joined(separator: ",")
print("{\"frames\":\(result.frames),\"bins\":\(result.bins),\"seconds\":[\(list)]}")
