import ArgumentParser
import Foundation
import KinoMedia

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Describe media files: streams, codecs, sizes, rates, exact frame counts, keyframes.")

    @Argument(help: "Media files to describe.") var files: [String]
    @Flag(name: .long, help: "Print JSON (one object per file, in an array).") var json = false
    @Flag(name: .long, help: "Skip the packet scan (faster; no exact frame count or keyframes).") var noScan = false

    func run() throws {
        var infos: [MediaInfo] = []
        var failures = 0
        for file in files {
            do {
                let info = try MediaProbe.probe(file, scanPackets: !noScan)
                infos.append(info)
                if !json { print(Self.render(info)) }
            } catch {
                failures += 1
                printError(error)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(infos), as: UTF8.self))
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
    let text = (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
    FileHandle.standardError.write(Data("kino: error: \(text)\n".utf8))
}

/// Prints a warning to standard error.
func printWarning(_ text: String) {
    FileHandle.standardError.write(Data("kino: warning: \(text)\n".utf8))
}
