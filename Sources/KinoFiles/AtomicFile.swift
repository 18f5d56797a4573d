import Foundation

/// A file-system operation that failed: what, on which path, and the operating system's cause.
public struct FileError: Error, LocalizedError, Sendable, Equatable {
    /// `write`, `create folder`, `replace`, …
    public var operation: String
    public var path: String
    /// `strerror`'s text or Kino's own reason, e.g. `no space left on device`.
    public var cause: String

    public init(operation: String, path: String, cause: String) {
        self.operation = operation
        self.path = path
        self.cause = cause
    }

    /// `errno` as the cause.
    public init(operation: String, path: String, errno code: Int32) {
        self.init(operation: operation, path: path, cause: FileErrorText.lowercasedFirst(String(cString: strerror(code))))
    }

    public var errorDescription: String? { "cannot \(operation) '\(path)': \(cause)" }
}

/// Writes that are whole or absent: a temporary sibling, then a rename over the final name —
/// and only over a regular file. A device (`/dev/null`, `/dev/full`), a FIFO, a socket or a
/// folder at the output path is refused rather than replaced by a regular file.
public enum AtomicFile {
    /// Writes `data` to `path` atomically.
    /// - Throws: ``FileError`` naming the path and the cause.
    public static func write(_ data: Data, to path: String) throws {
        let final = try destination(path)
        let temporary = temporarySibling(of: final)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(operation: "write", path: path, errno: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, close(fd) != 0 { failure = errno } else if failure != 0 { close(fd) }
        if failure != 0 {
            unlink(temporary)
            throw FileError(operation: "write", path: path, errno: failure)
        }
        try moveIntoPlace(temporary, final)
    }

    /// Renames a finished temporary file over `final`, after the same check as ``write(_:to:)``;
    /// the temporary is removed when the rename fails.
    public static func moveIntoPlace(_ temporary: String, _ final: String) throws {
        let target: String
        do { target = try destination(final) } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileError(operation: "write", path: final, errno: code)
        }
    }

    /// The path a write to `path` really replaces: `path` itself, or the regular file a symbolic
    /// link there points to (the link is kept).
    /// - Throws: ``FileError`` when something other than a regular file is there, or the
    ///   folder is missing.
    public static func destination(_ path: String) throws -> String {
        var st = stat()
        if lstat(path, &st) == 0 {
            var target = path
            if st.st_mode & S_IFMT == S_IFLNK {
                guard stat(path, &st) == 0, let resolved = realpath(path, nil) else {
                    throw FileError(operation: "write", path: path, cause: "it is a symbolic link to nothing")
                }
                target = String(cString: resolved)
                free(resolved)
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG: return target
            case S_IFDIR: throw FileError(operation: "write", path: path, cause: "it is a folder")
            case S_IFCHR, S_IFBLK:
                throw FileError(operation: "write", path: path, cause: "it is a device, not a regular file; Kino replaces only regular files")
            case S_IFIFO:
                throw FileError(operation: "write", path: path, cause: "it is a FIFO, not a regular file; Kino replaces only regular files")
            default:
                throw FileError(operation: "write", path: path, cause: "it is not a regular file; Kino replaces only regular files")
            }
        }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        var dir = stat()
        if stat(folder, &dir) != 0 {
            throw FileError(operation: "write", path: path, cause: errno == ENOENT ? "the folder '\(folder)' does not exist" : FileErrorText.lowercasedFirst(String(cString: strerror(errno))))
        }
        if dir.st_mode & S_IFMT != S_IFDIR { throw FileError(operation: "write", path: path, cause: "'\(folder)' is not a folder") }
        return path
    }

    /// A hidden name beside `path` that keeps its extension last (FFmpeg picks muxers by it).
    public static func temporarySibling(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var name = url.lastPathComponent
        // The hidden prefix must not push a long name past NAME_MAX.
        if name.utf8.count > 200 { name = String(name.suffix(40)) }
        return "\(dir)/.\(UUID().uuidString.prefix(8)).tmp-\(name)"
    }

    /// Creates `path` and its missing parents.
    /// - Throws: ``FileError`` naming the component that could not be made and why.
    public static func makeDirectories(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { return }
            throw FileError(operation: "create folder", path: path, cause: "a file of that name exists")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw FileError(operation: "create folder", path: path, errno: errno)
        }
    }
}
