import Foundation

/// The per-file output folder of `kino process` and `kino watch`, made visible atomically.
///
/// Work happens in `OUTDIR/<name>.incomplete/`. Only a completed run renames it to
/// `OUTDIR/<name>/`, so a folder under its final name is always whole; a failed, cancelled
/// or killed run leaves the `.incomplete` folder (with a `summary.json` saying why, unless the
/// process was killed) and never touches an earlier complete result.
public struct OutputFolder: Sendable, Equatable {
    /// Suffix of folders that are being written or did not complete.
    public static let incompleteSuffix = ".incomplete"

    public var root: String
    public var name: String

    /// - Parameters:
    ///   - root: the output directory (`-o`).
    ///   - name: the folder name, which may contain `/` for sub-folders (`watch --recursive`).
    public init(root: String, name: String) {
        self.root = root
        self.name = name
    }

    /// `root/name`: where a completed run's outputs end up.
    public var finalPath: String { "\(root)/\(name)" }
    /// `root/name.incomplete`: where the run writes.
    public var workPath: String { finalPath + Self.incompleteSuffix }

    /// Empties (or creates) the work folder.
    /// - Throws: file-system errors.
    public func prepare() throws {
        let files = FileManager.default
        if files.fileExists(atPath: workPath) { try files.removeItem(atPath: workPath) }
        try files.createDirectory(atPath: workPath, withIntermediateDirectories: true)
    }

    /// Renames the work folder to the final name, replacing an earlier result.
    ///
    /// An earlier folder is first renamed aside to a hidden name and removed after the new
    /// one is in place, so there is never a moment where a half-written folder has the final
    /// name (there is a short one where the final name is absent).
    /// - Throws: `CocoaError` when a rename fails.
    public func publish() throws {
        let files = FileManager.default
        var aside: String?
        if files.fileExists(atPath: finalPath) {
            let url = URL(fileURLWithPath: finalPath)
            let hidden = url.deletingLastPathComponent()
                .appendingPathComponent(".\(url.lastPathComponent).replaced-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
            try Self.rename(finalPath, hidden)
            aside = hidden
        }
        try Self.rename(workPath, finalPath)
        if let aside { try? files.removeItem(atPath: aside) }
    }

    private static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [
                NSFilePathErrorKey: to,
                NSLocalizedDescriptionKey: "cannot rename '\(from)' to '\(to)': \(String(cString: strerror(errno)))"])
        }
    }

    /// Folder names for a list of inputs: each file's stem, with `-2`, `-3`, … added where two
    /// inputs share one (`a/clip.mp4` and `b/clip.mov` → `clip`, `clip-2`).
    ///
    /// - Parameters:
    ///   - inputs: input paths, in order; earlier ones get the plain name.
    ///   - taken: names already in use (say, by other rows of a ledger).
    public static func uniqueNames(for inputs: [String], taken: Set<String> = []) -> [String] {
        var used = taken
        return inputs.map { input in
            let name = uniqueName(stem: stem(of: input), taken: used)
            used.insert(name)
            return name
        }
    }

    /// `stem`, or `stem-2`, `stem-3`, … — the first not in `taken`.
    public static func uniqueName(stem: String, taken: Set<String>) -> String {
        if !taken.contains(stem) { return stem }
        var n = 2
        while taken.contains("\(stem)-\(n)") { n += 1 }
        return "\(stem)-\(n)"
    }

    /// The file name without its extension; a name that would be hidden or empty gets a prefix.
    public static func stem(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        var stem = url.deletingPathExtension().lastPathComponent
        if stem.isEmpty || stem.hasPrefix(".") { stem = "file" + stem }
        if stem.hasSuffix(incompleteSuffix) { stem += "-input" }
        return stem
    }
}
