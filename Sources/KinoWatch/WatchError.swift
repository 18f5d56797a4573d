import Foundation
import Glibc

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
    /// A file could not be read while fingerprinting it, or a folder could not be listed.
    case unreadable(path: String, message: String)
    /// A folder (the output folder, the ledger's) could not be created: the folder and the cause.
    case cannotCreate(path: String, message: String)

    public var errorDescription: String? {
        switch self {
        case .notADirectory(let path):
            return "'\(path)' does not exist or is not a directory"
        case .inotify(let path, let operation, let message):
            return "cannot watch '\(path)': \(operation): \(message)"
        case .ledger(let path, let operation, let message):
            return "ledger '\(path)': \(operation): \(message)"
        case .unknownFile(let path):
            return "the ledger has no file '\(path)'"
        case .unreadable(let path, let message):
            return "cannot read '\(path)': \(message)"
        case .cannotCreate(let path, let message):
            return "cannot create folder '\(path)': \(message)"
        }
    }

    /// The cause alone, without the path (`Permission denied`).
    public var cause: String {
        switch self {
        case .notADirectory: return "not a directory"
        case .inotify(_, _, let message), .ledger(_, _, let message), .unreadable(_, let message),
             .cannotCreate(_, let message):
            return message
        case .unknownFile: return "not in the ledger"
        }
    }

    /// A plain cause for any error: `strerror`'s text for a POSIX error, also when Foundation
    /// wraps one in a `CocoaError` (whose description would otherwise be a raw
    /// `Error Domain=NSCocoaErrorDomain Code=… UserInfo={…}` dump on Linux).
    public static func cause(of error: any Error) -> String {
        if let error = error as? WatchError { return error.cause }
        let ns = error as NSError
        for candidate in [ns, ns.userInfo[NSUnderlyingErrorKey] as? NSError].compactMap({ $0 })
        where candidate.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(candidate.code)))
        }
        if let text = ns.userInfo[NSLocalizedDescriptionKey] as? String { return text }
        return error.localizedDescription
    }
}
