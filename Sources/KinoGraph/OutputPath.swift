import Foundation

/// A path a stage writes, checked to stay inside the per-file output folder.
///
/// Pipeline files name outputs relative to the folder Kino makes for each input file
/// (`OUTDIR/<name>.incomplete/`, renamed when the run completes). A path is normalised
/// (`./a//b` is `a/b`) and must not be empty, absolute, climb with `..`, use a hidden name
/// (Kino's temporaries start with a dot), end in `.incomplete` (what an unfinished output is
/// renamed to) or name a file Kino writes itself (``reserved``). Checking happens when the
/// option is read, so `kino pipeline check` reports it with the line.
public struct OutputPath: Sendable, Hashable, CustomStringConvertible {
    /// The normalised components, never empty.
    public let components: [String]
    /// Only set when the graph is built with ``BuildContext/confinesOutputs`` off.
    public let isAbsolute: Bool

    /// Names at the top of the output folder that Kino writes itself; nothing may write them
    /// or anything under them.
    public static let reserved: Set<String> = ["summary.json"]

    /// Why a path was refused.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case absolute
        case parent
        case hidden(String)
        case incompleteName(String)
        case reserved(String)
        case outside(String)

        public var description: String {
            switch self {
            case .empty: "it names no file (output paths are relative to the file's output folder)"
            case .absolute: "it is absolute; output paths are relative to the file's output folder"
            case .parent: "it contains '..'; outputs must stay inside the file's output folder"
            case .hidden(let name): "'\(name)' is a hidden name, which Kino keeps for its temporary files"
            case .incompleteName(let name): "'\(name)' ends in '.incomplete', the name Kino gives unfinished outputs"
            case .reserved(let name): "'\(name)' is written by Kino itself"
            case .outside(let folder): "it resolves outside the output folder '\(folder)'"
            }
        }
    }

    /// Checks and normalises `text`.
    /// - Parameter allowAbsolute: accept an absolute path as given (for graphs a command builds
    ///   from its own arguments, never for pipeline files).
    /// - Throws: ``Problem``.
    public init(checking text: String, allowAbsolute: Bool = false) throws(Problem) {
        let absolute = text.hasPrefix("/")
        if absolute && !allowAbsolute { throw .absolute }
        // A path the user gave on the command line may climb; only its final place matters.
        let given = absolute ? URL(fileURLWithPath: text).standardizedFileURL.path : text
        let parts = given.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        if parts.contains("..") { throw .parent }
        guard let first = parts.first, let last = parts.last else { throw .empty }
        if !absolute {
            if Self.reserved.contains(first) { throw .reserved(first) }
            if let hidden = parts.first(where: { $0.hasPrefix(".") }) { throw .hidden(hidden) }
        }
        if last.hasSuffix(OutputFolder.incompleteSuffix) { throw .incompleteName(last) }
        components = parts
        isAbsolute = absolute
    }

    /// `a/b`, or `/a/b` when absolute.
    public var description: String { (isAbsolute ? "/" : "") + components.joined(separator: "/") }

    /// Whether one of the two paths is the other or lies inside it (as a folder).
    public func overlaps(_ other: OutputPath) -> Bool {
        guard isAbsolute == other.isAbsolute else { return false }
        let n = min(components.count, other.components.count)
        return Array(components.prefix(n)) == Array(other.components.prefix(n))
    }
}

/// One output a stage of a pipeline will write, for the collision check of ``PipelineSpec/makeGraph(registry:context:)``.
public struct OutputClaim: Sendable, Equatable {
    public var stage: String
    public var option: String
    public var path: OutputPath
    /// The line of the option's value, else of the stage.
    public var line: Int?
}

extension BuildContext {
    /// `path` under ``outputDirectory``, checked to stay inside it after resolution.
    ///
    /// - Throws: ``OutputPath/Problem/outside(_:)`` when resolution leaves the folder (it cannot
    ///   for a checked relative path; this is the last line of defence).
    public func resolve(_ path: OutputPath) throws(OutputPath.Problem) -> String {
        if path.isAbsolute { return path.description }
        let root = URL(fileURLWithPath: outputDirectory, isDirectory: true).standardizedFileURL.path
        let resolved = URL(fileURLWithPath: root, isDirectory: true)
            .appendingPathComponent(path.components.joined(separator: "/")).standardizedFileURL.path
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard resolved.hasPrefix(prefix), resolved.count > prefix.count else { throw .outside(root) }
        return resolved
    }
}
