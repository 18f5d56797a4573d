// Fuzz target: pipeline YAML parsing and `kino pipeline check`'s graph building (no media run).
import Foundation
import FuzzSupport
import KinoGraph

private let outputFolder: String = {
    let path = FuzzScratch.folder + "/pipeline-out"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPipeline(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let spec = try? PipelineSpec.parse(yaml: yaml) else { return 0 }
    let context = BuildContext(inputPath: FuzzScratch.folder + "/no-such-input.mp4", outputDirectory: outputFolder)
    guard let graph = try? spec.makeGraph(context: context) else { return 0 }
    precondition(graph.nodes.count == spec.stages.count, "graph and spec disagree on the stage count")
    return 0
}
