import Foundation
import KinoModels
import KinoTensor

/// Fixture folders written by tools/make-model-fixtures.py.
enum Fixtures {
    static func directory(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// Inputs and reference outputs of fixture `name`.
    static func reference(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(path: directory(name) + "/reference.safetensors")
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kino-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Copies fixture `name` into a temporary folder whose weights the caller may then rewrite.
    static func copy(_ name: String) throws -> String {
        let dir = try temporaryDirectory()
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: directory(name) + "/" + file, toPath: dir + "/" + file)
        }
        return dir
    }

    /// Every tensor of a safetensors file.
    static func allTensors(_ path: String) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(path: path)
        var out: [String: Tensor] = [:]
        for name in file.names { out[name] = try file.tensor(name) }
        return out
    }
}
