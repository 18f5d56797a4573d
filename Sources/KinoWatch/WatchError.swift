import Foundation

/// The one error type of KinoWatch.
public enum WatchError: Error, LocalizedError, Sendable, Equatable {
    /// The watched directory is missing or not a directory.
    case notADirectory(path: String)
    /// An inotify call failed (`operation` names it; `errno` text in `message`).
    case inotify(path: String, operation: String, message: String)
    /// The ledger database could not be opened, read or written.
    case ledger(path: String, operation: String, message: String)
    /// A `kino ledger` command named a file the ledger has no row for.
    case unknownFile(path: String)
    /// A file could not be read while fingerprinting it.
    case unreadable(path: String, message: String)

    public var errorDescription: String? {
        switch self {
        case .notADirectory(let path):
            return "'\(path)' is not a directory"
        case .inotify(let path, let operation, let message):
            return "cannot watch '\(path)': \(operation): \(message)"
        case .ledger(let path, let operation, let message):
            return "ledger '\(path)': \(operation): \(message)"
        case .unknownFile(let path):
            return "the ledger has no file '\(path)'"
        case .unreadable(let path, let message):
            return "cannot read '\(path)': \(message)"
        }
    }
}
