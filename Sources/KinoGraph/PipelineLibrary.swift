import Foundation

/// Finds pipeline files by name in an ordered list of folders.
///
/// The same binary runs from a development checkout and from an install prefix, so the
/// bundled pipelines are looked up in several places, first match wins:
/// 1. every folder in `$KINO_PIPELINES` (colon-separated), so a user can override any of them;
/// 2. `<binary dir>/../share/kino/pipelines` (an installed `kino` under `bin/`);
/// 3. `<binary dir>/pipelines` (a binary copied next to its pipelines);
/// 4. `./pipelines` in the current directory;
/// 5. the `pipelines/` folder of the source tree this module was compiled from.
///
/// ```swift
/// let library = PipelineLibrary.standard()
/// let found = try library.resolve("overview")        // or a path: "my/pipeline.yaml"
/// let graph = try found.spec.makeGraph(context: context)
/// ```
public struct PipelineLibrary: Sendable {
    /// A pipeline file that was found and parsed.
    public struct Entry: Sendable, Equatable {
        /// The file name without `.yaml`, as users type it.
        public var name: String
        public var path: String
        public var spec: PipelineSpec
    }

    /// Folders searched in order.
    public var directories: [String]

    public init(directories: [String]) {
        self.directories = directories
    }

    /// The library with the standard search order, built from this process's environment.
    public static func standard() -> PipelineLibrary {
        PipelineLibrary(directories: standardDirectories(
            environment: ProcessInfo.processInfo.environment,
            executablePath: Self.executablePath(),
            currentDirectory: FileManager.default.currentDirectoryPath))
    }

    /// The search order described on the type, as a pure function of its inputs (for tests).
    public static func standardDirectories(environment: [String: String], executablePath: String?,
                                           currentDirectory: String) -> [String] {
        var result: [String] = []
        if let list = environment["KINO_PIPELINES"] {
            result += list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        if let executablePath {
            let binary = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            result.append(binary.deletingLastPathComponent().appendingPathComponent("share/kino/pipelines").path)
            result.append(binary.appendingPathComponent("pipelines").path)
        }
        result.append(URL(fileURLWithPath: currentDirectory).appendingPathComponent("pipelines").path)
        result.append(sourceTreeDirectory)
        var seen: Set<String> = []
        return result.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.filter { seen.insert($0).inserted }
    }

    /// `pipelines/` of the checkout this file was compiled in (`Sources/KinoGraph/…` → root).
    static let sourceTreeDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("pipelines").path
    }()

    /// The running binary's path (Linux `/proc/self/exe`, else argv[0]).
    static func executablePath() -> String? {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return link }
        return CommandLine.arguments.first.flatMap { $0.contains("/") ? $0 : nil }
    }

    /// Finds a pipeline by name, or reads it from a path.
    ///
    /// An argument containing `/` or ending in `.yaml`/`.yml` is a path; anything else is a name
    /// looked up in ``directories``.
    /// - Throws: ``GraphError/invalidPipeline(message:line:)`` when no folder has the name (the
    ///   message lists the folders searched), or the file's parse error.
    public func resolve(_ nameOrPath: String) throws -> Entry {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            let name = URL(fileURLWithPath: nameOrPath).deletingPathExtension().lastPathComponent
            return Entry(name: name, path: nameOrPath, spec: try PipelineSpec.load(path: nameOrPath))
        }
        for directory in directories {
            let path = "\(directory)/\(nameOrPath).yaml"
            if FileManager.default.isReadableFile(atPath: path) {
                return Entry(name: nameOrPath, path: path, spec: try PipelineSpec.load(path: path))
            }
        }
        throw GraphError.invalidPipeline(
            message: "no pipeline named '\(nameOrPath)' (looked in \(directories.joined(separator: ", ")))",
            line: nil)
    }

    /// Every pipeline found, one per name (the first folder that has it wins), sorted by name.
    ///
    /// Files that do not parse are returned with their error so a listing can show them.
    public func list() -> [(name: String, path: String, result: Result<PipelineSpec, GraphError>)] {
        var found: [String: (String, Result<PipelineSpec, GraphError>)] = [:]
        for directory in directories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in names where file.hasSuffix(".yaml") {
                let name = String(file.dropLast(5))
                guard found[name] == nil else { continue }
                let path = "\(directory)/\(file)"
                do {
                    found[name] = (path, .success(try PipelineSpec.load(path: path)))
                } catch let error as GraphError {
                    found[name] = (path, .failure(error))
                } catch {
                    found[name] = (path, .failure(.invalidPipeline(message: describe(error), line: nil)))
                }
            }
        }
        return found.keys.sorted().map { ($0, found[$0]!.0, found[$0]!.1) }
    }

    /// The bundled pipeline that suits a file with these streams: `overview` for video with
    /// audio, `overview-video` for video alone, `overview-audio` for audio alone.
    ///
    /// Choosing by streams keeps every stage strict: a `decode` of a missing stream is an error,
    /// not a silent empty output.
    /// - Returns: `nil` when the file has neither stream.
    public static func automaticName(hasVideo: Bool, hasAudio: Bool) -> String? {
        switch (hasVideo, hasAudio) {
        case (true, true): return "overview"
        case (true, false): return "overview-video"
        case (false, true): return "overview-audio"
        case (false, false): return nil
        }
    }
}
