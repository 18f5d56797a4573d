import Foundation
import KinoFiles

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
        try AtomicFile.makeDirectories(workPath)
    }

    /// Renames the work folder to the final name, replacing an earlier result.
    ///
    /// An earlier folder is first renamed aside to a hidden name and removed after the new
    /// one is in place, so there is never a moment where a half-written folder has the final
    /// name (there is a short one where the final name is absent). The aside name is short
    /// (``asideName(for:)``) whatever the length of `name`, so a name that fits once can always
    /// be replaced.
    /// - Throws: `CocoaError` when a rename fails.
    public func publish() throws {
        let files = FileManager.default
        var aside: String?
        if files.fileExists(atPath: finalPath) {
            let url = URL(fileURLWithPath: finalPath)
            let hidden = url.deletingLastPathComponent().appendingPathComponent(Self.asideName(for: url.lastPathComponent)).path
            try Self.rename(finalPath, hidden)
            aside = hidden
        }
        try Self.rename(workPath, finalPath)
        if let aside { try? files.removeItem(atPath: aside) }
    }

    /// The hidden name an earlier result is moved to while it is replaced:
    /// `.kino-replaced-<hash of name>-<pid>-<random>`, at most 50 bytes, so it fits
    /// `NAME_MAX` for any `name` and two processes replacing folders never pick the same one.
    public static func asideName(for name: String) -> String {
        ".kino-replaced-\(hash(name))-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    private static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [
                NSFilePathErrorKey: to,
                NSLocalizedDescriptionKey: "cannot rename '\(from)' to '\(to)': \(String(cString: strerror(errno)))"])
        }
    }

    /// The longest file name (bytes) Linux file systems allow (`NAME_MAX`).
    public static let nameMax = 255

    /// The longest folder name (bytes) that still leaves room for ``incompleteSuffix``.
    public static var folderNameMax: Int { nameMax - incompleteSuffix.utf8.count }

    /// `name` if its last component (what gets the ``incompleteSuffix``) fits
    /// ``folderNameMax`` bytes; otherwise that component cut at a character boundary and ended
    /// with `~` and 16 hex digits of a hash of the whole component, so two long names that share
    /// their beginning still get different folders (`<first 227 bytes>~1f0c…`).
    public static func fitted(_ name: String) -> String {
        let slash = name.lastIndex(of: "/")
        let folder = slash.map { String(name[...$0]) } ?? ""
        let last = slash.map { String(name[name.index(after: $0)...]) } ?? name
        guard last.utf8.count > folderNameMax else { return name }
        let tag = "~" + hash(last)
        var cut = ""
        for character in last {
            if cut.utf8.count + String(character).utf8.count + tag.utf8.count > folderNameMax { break }
            cut.append(character)
        }
        return folder + cut + tag
    }

    /// 64-bit FNV-1a of the UTF-8 bytes, as 16 hex digits: stable across runs and platforms.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
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

    /// `stem`, or `stem-2`, `stem-3`, … — the first not in `taken`; each candidate
    /// ``fitted(_:)`` to the name limit.
    public static func uniqueName(stem: String, taken: Set<String>) -> String {
        uniqueName(stem: stem) { taken.contains($0) }
    }

    /// `stem`, or `stem-2`, `stem-3`, … — the first for which `isTaken` is false; each
    /// candidate ``fitted(_:)`` to the name limit.
    public static func uniqueName(stem: String, isTaken: (String) throws -> Bool) rethrows -> String {
        var candidate = fitted(stem)
        var n = 2
        while try isTaken(candidate) {
            candidate = fitted("\(stem)-\(n)")
            n += 1
        }
        return candidate
    }

    /// The file name without its extension; a name that would be hidden or empty gets a prefix,
    /// and one too long for its `.incomplete` form is ``fitted(_:)``.
    public static func stem(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        var stem = url.deletingPathExtension().lastPathComponent
        if stem.isEmpty || stem.hasPrefix(".") { stem = "file" + stem }
        if stem.hasSuffix(incompleteSuffix) { stem += "-input" }
        return fitted(stem)
    }
}

extension OutputFolder {
    /// `path` relative to this folder, whichever of its names (`.incomplete` or final, relative
    /// or absolute) it was written under: the form `summary.json` lists, which stays valid after
    /// the folder is renamed. A path outside the folder is returned unchanged.
    func relativePath(of path: String) -> String {
        func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
        let file = absolute(path)
        for base in [absolute(workPath), absolute(finalPath)] where file.hasPrefix(base + "/") {
            return String(file.dropFirst(base.count + 1))
        }
        return path
    }
}
