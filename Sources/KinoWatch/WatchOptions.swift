import Foundation
import Glibc
import KinoGraph

/// Settings of a ``Watcher``; `kino watch` fills them from its options.
public struct WatchOptions: Sendable {
    /// The watched directory.
    public var directory: String
    /// Where output folders go (and, by default, the ledger).
    public var outputDirectory: String
    /// The SQLite ledger; `nil` means `<outputDirectory>/kino-ledger.sqlite`.
    public var ledgerPath: String?
    /// Pipeline name or path; `nil` picks by streams, as `kino process` does.
    public var pipeline: String?
    /// Files processed at once.
    public var jobs: Int
    /// Seconds a file's size and mtime must stay still (with no writer) before it is taken.
    public var settle: Double
    public var recursive: Bool
    /// Shell patterns a file name must match (any of them); empty takes every name.
    public var include: [String]
    /// Process what is there, wait for it to finish, and return.
    public var once: Bool
    /// Failed runs after which a file is quarantined.
    public var maxAttempts: Int
    /// Seconds before retrying a failed file, times its attempt count.
    public var retryDelay: Double
    /// Seconds between full rescans (catch-up for lost events and network file systems).
    public var rescanInterval: Double
    /// Per-file time limit in seconds; a file over it fails (and will be retried).
    public var timeout: Double?
    /// Seconds past ``timeout`` after which a run that ignores cancellation (a source blocked
    /// inside a C call) is abandoned: its worker records the failure and moves on, leaving the
    /// stuck thread behind.
    public var abandonAfter: Double = 10
    public var library: PipelineLibrary
    public var registry: StageRegistry

    public init(directory: String, outputDirectory: String, ledgerPath: String? = nil, pipeline: String? = nil,
                jobs: Int = 1, settle: Double = 2, recursive: Bool = false, include: [String] = [],
                once: Bool = false, maxAttempts: Int = 3, retryDelay: Double = 2, rescanInterval: Double = 60,
                timeout: Double? = nil, library: PipelineLibrary = .standard(), registry: StageRegistry = .builtIn) {
        self.directory = directory
        self.outputDirectory = outputDirectory
        self.ledgerPath = ledgerPath
        self.pipeline = pipeline
        self.jobs = max(1, jobs)
        self.settle = max(0, settle)
        self.recursive = recursive
        self.include = include
        self.once = once
        self.maxAttempts = max(1, maxAttempts)
        self.retryDelay = max(0, retryDelay)
        self.rescanInterval = rescanInterval
        self.timeout = timeout
        self.library = library
        self.registry = registry
    }

    /// The ledger path actually used.
    public var resolvedLedgerPath: String { ledgerPath ?? "\(outputDirectory)/kino-ledger.sqlite" }
}

/// Which paths under the watched directory are inputs.
///
/// Never taken: names that writers use while a file is incomplete (`*.part`, `*.tmp`,
/// `*.partial`, `*.crdownload`, `*~`) — the file is taken once renamed; hidden names (dotfiles,
/// which is also how Kino names its own temporaries); and Kino's own outputs, the output
/// directory and the ledger with its `-wal`/`-shm`/`-journal`/`.lock` files, when they lie inside
/// the watched directory.
struct WatchFilter: Sendable {
    let root: String
    let excludedTrees: [String]
    let excludedFiles: Set<String>
    let include: [String]

    static let temporarySuffixes = [".part", ".tmp", ".partial", ".crdownload", ".incomplete", "~"]

    init(root: String, outputDirectory: String, ledgerPath: String, include: [String]) {
        self.root = root
        self.excludedTrees = [outputDirectory]
        self.excludedFiles = Set(["", "-wal", "-shm", "-journal", ".lock"].map { ledgerPath + $0 })
        self.include = include
    }

    /// Whether a file path should be considered at all.
    func accepts(file path: String) -> Bool {
        guard !isExcluded(directory: path), !excludedFiles.contains(path) else { return false }
        let name = (path as NSString).lastPathComponent
        if name.hasPrefix(".") || Self.temporarySuffixes.contains(where: { name.hasSuffix($0) }) { return false }
        let relative = path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
        if relative.split(separator: "/").dropLast().contains(where: { $0.hasPrefix(".") }) { return false }
        return include.isEmpty || include.contains { fnmatch($0, name, 0) == 0 }
    }

    /// Whether a directory (or anything under it) is Kino's own or hidden.
    func isExcluded(directory path: String) -> Bool {
        if excludedTrees.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { return true }
        return path != root && (path as NSString).lastPathComponent.hasPrefix(".")
    }

    /// Output folder name for an input: its folder relative to the root, then its stem.
    func outputStem(for path: String) -> String {
        let relative = path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : (path as NSString).lastPathComponent
        let folder = (relative as NSString).deletingLastPathComponent
        let stem = OutputFolder.stem(of: relative)
        return folder.isEmpty ? stem : "\(folder)/\(stem)"
    }
}

/// Canonical absolute form of a path (symlinks resolved), as `/proc/*/fd` links show paths.
func canonicalPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
    defer { free(resolved) }
    return String(cString: resolved)
}
