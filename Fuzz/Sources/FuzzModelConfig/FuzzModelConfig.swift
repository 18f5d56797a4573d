// Fuzz target: a model folder's config.json, loaded the way `kino model info` loads it.
//
// The input is the config.json. The folder it is written to holds the tiny fixture checkpoint of
// the architecture its `model_type` names (Tests/KinoModelsTests/Fixtures/*-a), so the fuzzer can
// reach past weight loading; other types get a folder with an empty checkpoint.
import Foundation
import FuzzSupport
import KinoModels

private let folders: [String: String] = {
    let fixtures = FuzzScratch.repositoryRoot + "/Tests/KinoModelsTests/Fixtures"
    let architectures = ["vit": "vit-a", "vivit": "vivit-a", "audio-spectrogram-transformer": "ast-a",
                         "vivit-factorised-encoder": "fe-a"]
    var result: [String: String] = [:]
    for (type, fixture) in architectures {
        let folder = FuzzScratch.folder + "/model-" + fixture
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let weights = folder + "/model.safetensors"
        try? FileManager.default.removeItem(atPath: weights)
        do {
            try FileManager.default.copyItem(atPath: fixtures + "/" + fixture + "/model.safetensors", toPath: weights)
        } catch {
            fatalError("fuzz harness cannot copy the \(fixture) fixture: \(error)")
        }
        result[type] = folder
    }
    // Any other model_type: an empty but valid checkpoint (8-byte length, `{}` padded).
    let empty = FuzzScratch.folder + "/model-empty"
    try? FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    var bytes = [UInt8](repeating: 0, count: 8) + Array("{}      ".utf8)
    bytes[0] = 8
    FileManager.default.createFile(atPath: empty + "/model.safetensors", contents: Data(bytes))
    result[""] = empty
    return result
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var folder = folders[""]!
    if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
       let type = object["model_type"] as? String, let match = folders[type] {
        folder = match
    }
    let config = folder + "/config.json"
    FileManager.default.createFile(atPath: config, contents: Data(bytes))
    if let model = try? ModelRegistry.load(directory: folder) {
        _ = model.parameterCount
        _ = model.labels.count
        _ = model.sampleShape
    }
    return 0
}
