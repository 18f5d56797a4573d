import CFFmpeg
import Foundation
import KinoFiles

/// The one place FFmpeg return codes become Swift control flow or a `MediaError`.
enum FF {
    static let eagain = kino_averror_eagain()
    static let eof = kino_averror_eof()
    static let noPTS = kino_nopts_value()

    /// FFmpeg's text for an error code.
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Throws a `MediaError` for a negative code; returns the code otherwise.
    @discardableResult
    static func check(_ code: Int32, _ operation: @autoclosure () -> String, path: String,
                      kind: MediaError.Kind = .codec) throws -> Int32 {
        guard code < 0 else { return code }
        throw error(code, operation(), path: path, kind: kind)
    }

    static func error(_ code: Int32, _ operation: String, path: String, kind: MediaError.Kind = .codec) -> MediaError {
        var kind = kind
        if code == kino_averror_invaliddata() { kind = .corrupt }
        if code == -ENOENT { kind = .notFound }
        if code == -EIO { kind = .io }
        return MediaError(kind, operation: operation, path: path, message: message(code), code: code)
    }

    /// Keeps FFmpeg quiet unless `KINO_FFMPEG_LOG` asks otherwise; Kino reports errors itself.
    static let configureLogging: Void = {
        if let level = ProcessInfo.processInfo.environment["KINO_FFMPEG_LOG"], let value = Int32(level) {
            av_log_set_level(value)
        } else {
            av_log_set_level(AV_LOG_FATAL)
        }
    }()
}

extension Rational {
    init(_ r: AVRational) { self.init(Int64(r.num), Int64(r.den)) }
    var av: AVRational { AVRational(num: Int32(numerator), den: Int32(denominator)) }
}

/// Checks a user-supplied input path before FFmpeg sees it, so the error names the real problem.
func validateInputPath(_ path: String, operation: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else {
        let cause = errno
        if cause == EACCES {
            throw MediaError(.io, operation: operation, path: path, message: "permission denied (a folder on the way cannot be searched)")
        }
        if cause == ENAMETOOLONG {
            throw MediaError(.notFound, operation: operation, path: path, message: "the name is too long for the file system")
        }
        // Swift strings hold only valid UTF-8: a name given in another encoding arrives with its
        // bad bytes replaced, and that name does not exist.
        let hint = path.contains("\u{FFFD}") ? " (the name given is not valid UTF-8; Kino can only open files whose names are: rename the file)" : ""
        throw MediaError(.notFound, operation: operation, path: path, message: "no such file\(hint)")
    }
    switch st.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR:
        throw MediaError(.isDirectory, operation: operation, path: path, message: "expected a file, found a directory")
    case S_IFIFO:
        throw MediaError(.unsupported, operation: operation, path: path, message: "a FIFO (named pipe), not a regular file: Kino reads only regular files")
    case S_IFCHR, S_IFBLK:
        throw MediaError(.unsupported, operation: operation, path: path, message: "a device, not a regular file: Kino reads only regular files")
    default:
        throw MediaError(.unsupported, operation: operation, path: path, message: "not a regular file")
    }
    guard access(path, R_OK) == 0 else {
        throw MediaError(.io, operation: operation, path: path, message: "permission denied")
    }
    if st.st_size == 0 {
        throw MediaError(.emptyFile, operation: operation, path: path, message: "file is zero bytes")
    }
}

