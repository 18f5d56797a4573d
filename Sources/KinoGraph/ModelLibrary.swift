import Foundation

/// Finds the models that ship with Kino (`models/<name>/`, HF-style folders) in the same places
/// ``PipelineLibrary`` looks for pipelines: `$KINO_MODELS` (colon-separated),
/// `<binary dir>/../share/kino/models`, `<binary dir>/models`, `./models`, and the `models/`
/// folder of the source tree this module was compiled from.
public struct ModelLibrary: Sendable {
    /// The shipped sound classifier (a compact transformer on fbank windows).
    public static let sounds = "kino-sounds"
    /// The shipped camera-motion classifier (a factorised encoder over clips).
    public static let motion = "kino-motion"

    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    public static func standard() -> ModelLibrary {
        let environment = ProcessInfo.processInfo.environment
        var result: [String] = []
        if let list = environment["KINO_MODELS"] { result += list.split(separator: ":").map(String.init).filter { !$0.isEmpty } }
        if let executable = PipelineLibrary.executablePath() {
            let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
            result.append(binary.deletingLastPathComponent().appendingPathComponent("share/kino/models").path)
            result.append(binary.appendingPathComponent("models").path)
        }
        result.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models").path)
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        result.append(url.appendingPathComponent("models").path)
        var seen: Set<String> = []
        return ModelLibrary(directories: result.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.filter { seen.insert($0).inserted })
    }

    /// The folder of shipped model `name` (one holding `config.json` and `model.safetensors`),
    /// or nil when none of the directories has it.
    public func directory(for name: String) -> String? {
        let fm = FileManager.default
        return directories.map { "\($0)/\(name)" }.first {
            fm.isReadableFile(atPath: $0 + "/config.json") && fm.isReadableFile(atPath: $0 + "/model.safetensors")
        }
    }
}
