import Foundation
import KinoFiles

/// Writes classifier events as a WebVTT file (W3C WebVTT: the `WEBVTT` header, then cues of
/// `HH:MM:SS.mmm --> HH:MM:SS.mmm` and their text), for a player's `<track>` over the video.
///
/// A cue per event that has labels and a time range: its text is the stage id and the top labels
/// with their scores (`sounds: speech 0.93, music 0.04`). Summary events and "off" events make
/// no cue. Cues are written in start order when the run ends, under a temporary name, then renamed.
public final class WebVTTSink: ProcessingStage {
    public let path: String
    public let ports: Int
    /// Labels shown per cue.
    public let labelsPerCue: Int
    private let cues = Locked<[(start: Double, end: Double, text: String)]>([])

    public init(path: String, ports: Int = 1, labelsPerCue: Int = 2) {
        self.path = path
        self.ports = max(1, ports)
        self.labelsPerCue = labelsPerCue
    }

    public var inputTypes: [PortType] { Array(repeating: .event, count: ports) }
    public var outputType: PortType? { nil }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .event(let event) = packet.payload, event.end > event.start,
              event.payload["summary"] == nil, case .array(let labels)? = event.payload["labels"] else { return }
        let shown = labels.prefix(labelsPerCue).compactMap { entry -> String? in
            guard case .object(let o) = entry, case .string(let name)? = o["label"], case .number(let score)? = o["score"] else { return nil }
            return name + " " + String(format: "%.2f", score)
        }
        guard !shown.isEmpty else { return }
        // A cue's text may not contain "-->" or a blank line; label names are single-line.
        let text = (event.stage + ": " + shown.joined(separator: ", ")).replacingOccurrences(of: "-->", with: "->")
            .replacingOccurrences(of: "\n", with: " ")
        cues.withLock { $0.append((event.start, event.end, text)) }
    }

    /// `HH:MM:SS.mmm`.
    static func timestamp(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }

    /// The file's text for `list`.
    static func document(_ list: [(start: Double, end: Double, text: String)]) -> String {
        var out = "WEBVTT\n"
        for (i, cue) in list.enumerated().sorted(by: { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }).map({ $0.element }).enumerated() {
            out += "\n\(i + 1)\n\(timestamp(cue.start)) --> \(timestamp(cue.end))\n\(cue.text)\n"
        }
        return out
    }

    public func finish(output: StageOutput) throws {
        let finalPath = output.isCancelled ? path + ".incomplete" : path
        try AtomicFile.write(Data(Self.document(cues.withLock { $0 }).utf8), to: finalPath)
        output.recordFile(finalPath, complete: !output.isCancelled)
    }
}
