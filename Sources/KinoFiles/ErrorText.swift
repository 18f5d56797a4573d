import Foundation

/// The one funnel from any error to the sentence a user reads.
///
/// Kino's own errors (`MediaError`, `GraphError`, …) describe themselves. Foundation's file
/// errors arrive as `NSCocoaErrorDomain` codes with the real cause tucked into `userInfo`; they
/// become `cannot write 'out/clip/summary.json': no space left on device` — the path and the
/// operating system's cause, never a raw `Error Domain=… UserInfo={…}` dump.
public func plainDescription(of error: any Error) -> String {
    if let own = error as? FileError { return own.errorDescription ?? own.cause }
    if let localized = error as? any LocalizedError, !(error is CocoaError), let text = localized.errorDescription {
        return text
    }
    let ns = error as NSError
    if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
        return FileErrorText(ns).sentence
    }
    if let localized = error as? any LocalizedError, let text = localized.errorDescription { return text }
    return String(describing: error)
}

/// What a Foundation file error says, taken apart.
struct FileErrorText {
    var path: String?
    var verb: String
    var cause: String

    init(_ error: NSError) {
        let info = error.userInfo
        path = (info[NSFilePathErrorKey] as? String) ?? (info[NSURLErrorKey] as? URL)?.path
        let underlying = info[NSUnderlyingErrorKey] as? NSError
        var errnoCode: Int32?
        if error.domain == NSPOSIXErrorDomain { errnoCode = Int32(error.code) }
        if let underlying, underlying.domain == NSPOSIXErrorDomain { errnoCode = Int32(underlying.code) }
        let code = error.domain == NSCocoaErrorDomain ? error.code : -1
        verb = (256..<512).contains(code) || code == CocoaError.fileNoSuchFile.rawValue ? "cannot read" : "cannot write"
        if let errnoCode, errnoCode != 0 {
            cause = Self.lowercasedFirst(String(cString: strerror(errnoCode)))
        } else {
            switch CocoaError.Code(rawValue: code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: cause = "no such file or folder"
            case .fileReadNoPermission, .fileWriteNoPermission: cause = "permission denied"
            case .fileWriteOutOfSpace: cause = "no space left on device"
            case .fileWriteVolumeReadOnly: cause = "read-only file system"
            case .fileWriteFileExists: cause = "it already exists"
            case .fileWriteInvalidFileName: cause = "the name is invalid or too long"
            case .fileReadCorruptFile: cause = "the file's contents are not in the expected format"
            case .fileReadTooLarge: cause = "the file is too large"
            default:
                // Kino's own CocoaErrors carry a full sentence.
                if let text = info[NSLocalizedDescriptionKey] as? String { cause = text } else { cause = "file-system error \(code)" }
            }
        }
    }

    var sentence: String {
        guard let path else { return cause }
        if cause.contains(path) { return cause }
        return "\(verb) '\(path)': \(cause)"
    }

    static func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }
}
