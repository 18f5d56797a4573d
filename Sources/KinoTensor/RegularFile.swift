import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening files that must be regular files (model folders, checkpoints, configs).
///
/// A FIFO, a device or a directory in a model folder would otherwise block `open` forever
/// (a FIFO with no writer), or fail later with a misleading error; these are refused up front,
/// by `fstat` on a descriptor opened without blocking, so there is no gap between check and use.
public enum RegularFile {
    /// Why a file could not be used.
    public struct Failure: Error, Equatable, Sendable {
        /// Human-readable, without the path (callers put it in their own error).
        public var reason: String
    }

    /// Opens `path` read-only and returns the descriptor and size, refusing anything that is not
    /// a regular file. The caller closes the descriptor.
    /// - Throws: ``Failure`` naming what the path is when it is not a regular file.
    public static func descriptor(_ path: String) throws -> (descriptor: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(reason: reason)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw Failure(reason: "not a regular file (\(kind(info.st_mode)))")
        }
        // Regular files ignore O_NONBLOCK, but clear it so later reads behave the ordinary way.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, Int(info.st_size))
    }

    /// The whole of the regular file `path`, refused unread above `limit` bytes.
    /// - Throws: ``Failure``.
    public static func contents(_ path: String, limit: Int) throws -> Data {
        let (fd, size) = try descriptor(path)
        defer { close(fd) }
        guard size <= limit else { throw Failure(reason: "\(size) bytes, more than the \(limit) allowed") }
        var data = Data(count: size)
        var done = 0
        while done < size {
            let n = data.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + done, size - done)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n == 0 { break }  // shrank while being read: use what is there
                throw Failure(reason: String(cString: strerror(errno)))
            }
            done += n
        }
        return done == size ? data : data.prefix(done)
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "mode \(String(mode, radix: 8))"
        }
    }
}
