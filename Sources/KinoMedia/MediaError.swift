import Foundation

/// The one error type of KinoMedia: what was being done, to which file, and why.
public struct MediaError: Error, LocalizedError, Sendable, Equatable {
    /// A coarse classification callers can branch on.
    public enum Kind: String, Sendable, Codable {
        case notFound = "not found"
        case isDirectory = "is a directory"
        case emptyFile = "empty file"
        case notMedia = "not a media file"
        case noStream = "no such stream"
        case corrupt = "corrupt data"
        case unsupported = "unsupported"
        case outOfRange = "out of range"
        case invalidArgument = "invalid argument"
        case io = "i/o error"
        case codec = "codec error"
    }

    public var kind: Kind
    /// What Kino was doing, e.g. "opening", "decoding video", "seeking to frame 120".
    public var operation: String
    /// The file concerned (may be empty for in-memory work).
    public var path: String
    /// The underlying message (FFmpeg's or libsndfile's text, or Kino's own).
    public var message: String
    /// The FFmpeg or libsndfile error code, when there is one.
    public var code: Int32?

    public init(_ kind: Kind, operation: String, path: String, message: String, code: Int32? = nil) {
        self.kind = kind
        self.operation = operation
        self.path = path
        self.message = message
        self.code = code
    }

    public var errorDescription: String? {
        let file = path.isEmpty ? "" : "\(path): "
        return "\(file)\(operation) failed: \(kind.rawValue): \(message)"
    }
}
