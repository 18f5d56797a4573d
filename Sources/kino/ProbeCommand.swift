import ArgumentParser
import Foundation
import KinoMedia
import KinoFiles

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Describe media files: streams, codecs, sizes, rates, exact frame counts, keyframes.")

    @Argument(help: "Media files to describe.") var files: [String]
    @Flag(name: .long, help: "Print JSON (one object per file, in an array).") var json = false
    @Flag(name: .long, help: "Skip the packet scan (faster; no exact frame count or keyframes).") var noScan = false

    func run() throws {
        var entries: [ProbeEntry] = []
        var failures = 0
        for file in files {
            do {
                let info = try MediaProbe.probe(file, scanPackets: !noScan)
                entries.append(ProbeEntry(info: info, warning: info.headerProblem))
                if !json { print(Self.render(info)) }
                if let problem = info.headerProblem { printWarning("\(file): \(problem)") }
            } catch {
                failures += 1
                entries.append(ProbeEntry(path: file, error: error))
                printError(error)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
        }
        if failures > 0 { throw ExitCode(1) }
    }

    static func render(_ info: MediaInfo) -> String {
        var lines = ["\(info.path)",
                     "  format    \(info.format) (\(info.formatLongName))",
                     String(format: "  duration  %.3f s   bit rate %@", info.duration, rate(info.bitRate))]
        for s in info.streams {
            var line = "  #\(s.index) \(s.type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(s.codec)"
            switch s.type {
            case .video:
                line += " \(s.width ?? 0)×\(s.height ?? 0) \(s.pixelFormat ?? "?")"
                if let r = s.averageFrameRate, r.isValid { line += String(format: "  %.3f fps avg", r.doubleValue) }
                if let r = s.realFrameRate, r.isValid { line += " (r \(r))" }
                line += "  tb \(s.timeBase)"
                if let rot = s.rotation, rot != 0 { line += "  rotation \(rot)°" }
                lines.append(line)
                var detail = "      frames"
                if let n = s.frameCount { detail += " \(n) (scanned)" }
                if let h = s.headerFrameCount, h > 0 { detail += ", header says \(h)" }
                if let k = s.keyframeIndices {
                    let shown = k.prefix(12).map(String.init).joined(separator: ",")
                    detail += "; \(k.count) keyframes at [\(shown)\(k.count > 12 ? ",…" : "")]"
                }
                if s.variableFrameRate == true { detail += "; variable frame rate" }
                if s.hasReordering == true { detail += "; B-frames" }
                lines.append(detail)
            case .audio:
                line += " \(s.sampleRate ?? 0) Hz, \(s.channels ?? 0) ch (\(s.channelLayout ?? "?")), \(s.sampleFormat ?? "?")"
                lines.append(line)
            default:
                lines.append(line)
            }
            lines.append(String(format: "      start %.3f s, duration %.3f s, bit rate %@", s.startTime, s.duration, rate(s.bitRate)))
        }
        return lines.joined(separator: "\n")
    }

    static func rate(_ bps: Int64) -> String {
        bps <= 0 ? "unknown" : String(format: "%.0f kb/s", Double(bps) / 1000)
    }
}

/// Prints an error to standard error as `kino: error: …`.
func printError(_ error: any Error) {
    writeStandardError("kino: error: \(describeError(error))\n")
}

/// Prints a warning to standard error.
func printWarning(_ text: String) {
    writeStandardError("kino: warning: \(text)\n")
}

/// Writes to standard error with write(2): a write that fails (standard error on a full disk)
/// loses the line instead of raising the exception `FileHandle.write` would.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
    bytes.removeAll()
}

/// One element of `kino probe --json`: the file's description, or its path and why it could not
/// be read (so the array has one element per file given, in order).
struct ProbeEntry: Encodable {
    var info: MediaInfo?
    var path: String
    var warning: String?
    var error: ProbeFailure?

    struct ProbeFailure: Encodable {
        var kind: String
        var operation: String?
        var message: String
    }

    init(info: MediaInfo, warning: String?) {
        self.info = info
        self.path = info.path
        self.warning = warning
    }

    init(path: String, error: any Error) {
        self.path = path
        if let media = error as? MediaError {
            self.error = ProbeFailure(kind: media.kind.rawValue, operation: media.operation, message: media.message)
        } else {
            self.error = ProbeFailure(kind: "error", operation: nil, message: describeError(error))
        }
    }

    private enum Keys: String, CodingKey { case path, warning, error }

    func encode(to encoder: any Encoder) throws {
        // A readable file's entry is the MediaInfo object itself (plus a warning when its header
        // is implausible); a failed one has just its path and the error.
        if let info { try info.encode(to: encoder) }
        var c = encoder.container(keyedBy: Keys.self)
        if info == nil { try c.encode(path, forKey: .path) }
        try c.encodeIfPresent(warning, forKey: .warning)
        try c.encodeIfPresent(error, forKey: .error)
    }
}

/// The sentence for any error: Kino's own describe themselves; file-system errors become the
/// path and the cause (``plainDescription(of:)``).
func describeError(_ error: any Error) -> String {
    plainDescription(of: error)
}
