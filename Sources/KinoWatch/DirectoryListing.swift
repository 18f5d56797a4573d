import Foundation
import Glibc

/// Directory contents as the kernel names them, and what each name is, without following links.
///
/// Names are bytes on Linux; Kino's paths are `String`s (the ledger, FFmpeg, the output folder
/// names), so a name that is not valid UTF-8 cannot be processed. `FileManager` drops such
/// names without a word; reading the directory with `readdir` lets the watcher name them in a
/// warning instead.
enum DirectoryListing {
    /// What a path is, by `lstat`: a symbolic link is reported as a link, never as its target.
    enum Kind: Equatable {
        case file
        case directory
        case symbolicLink
        case other
        case missing
    }

    /// The raw names in `path` (without `.` and `..`).
    /// - Throws: ``WatchError/unreadable(path:message:)`` with `strerror`'s text.
    static func names(in path: String) throws -> [[UInt8]] {
        guard let directory = opendir(path) else {
            throw WatchError.unreadable(path: path, message: String(cString: strerror(errno)))
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append(name)
        }
        return names
    }

    /// `name` as a `String`, or `nil` when it is not valid UTF-8.
    static func text(_ name: [UInt8]) -> String? {
        String(validating: name, as: UTF8.self)
    }

    /// A name for messages: printable ASCII as is, every other byte (and `\`) as `\xNN`.
    static func escaped(_ name: [UInt8]) -> String {
        name.map { byte in
            (0x20..<0x7f).contains(byte) && byte != 0x5c ? String(UnicodeScalar(byte)) : String(format: "\\x%02x", byte)
        }.joined()
    }

    static func kind(of path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }
}
