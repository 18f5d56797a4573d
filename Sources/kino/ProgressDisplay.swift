import Foundation
import KinoGraph

/// Shows how `kino process` is getting on.
///
/// On a terminal (standard error is a TTY) one status line is redrawn in place with `\r`:
/// files done, then for each running file its media time against its duration, speed ×
/// realtime and ETA. Finished files are printed as permanent lines above it. When standard
/// error is not a terminal (a log file, CI), there is no redrawing: a line when a file starts,
/// one every `logInterval` seconds while it runs, and one when it ends.
final class ProgressDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let interactive: Bool
    private let logInterval: Double
    private var running: [Int: FileProgress] = [:]
    private var lastLog: [Int: Double] = [:]
    private var done = 0
    private var failed = 0
    private var damaged = 0
    private var statusShown = false

    init(total: Int, interactive: Bool = isatty(STDERR_FILENO) == 1, logInterval: Double = 10) {
        self.total = total
        self.interactive = interactive
        self.logInterval = logInterval
    }

    /// Feeds one runner event; called from worker threads.
    func handle(_ event: ProcessEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .started(let index, let input, let duration):
            running[index] = FileProgress(index: index, input: input, mediaSeconds: 0, duration: duration, wallSeconds: 0)
            if !interactive { write("\(input): started" + (duration.map { String(format: " (%.1f s of media)", $0) } ?? "") + "\n") }
        case .progress(let progress):
            running[progress.index] = progress
            if !interactive, progress.wallSeconds - (lastLog[progress.index] ?? 0) >= logInterval {
                lastLog[progress.index] = progress.wallSeconds
                write("\(progress.input): \(Self.describe(progress))\n")
            }
        case .finished(let index, let summary):
            running[index] = nil
            done += 1
            if summary.status == .damaged { damaged += 1 } else if summary.status != .completed { failed += 1 }
            clearStatus()
            write(summary.line + "\n")
        }
        if interactive { drawStatus() }
    }

    /// Removes the status line before the program prints its last words.
    func end() {
        lock.lock()
        defer { lock.unlock() }
        clearStatus()
    }

    /// `3.2/6.0 s  1.9×  ETA 1.5 s`.
    static func describe(_ p: FileProgress) -> String {
        var text = p.duration.map { String(format: "%.1f/%.1f s", p.mediaSeconds, $0) } ?? String(format: "%.1f s", p.mediaSeconds)
        if let fraction = p.fraction { text += String(format: " %3.0f%%", fraction * 100) }
        if let speed = p.speed { text += String(format: "  %.1f×", speed) }
        if let eta = p.eta { text += String(format: "  ETA %.0f s", eta.rounded(.up)) }
        return text
    }

    private func drawStatus() {
        var line = "[\(done)/\(total)" + (failed > 0 ? ", \(failed) failed" : "") + (damaged > 0 ? ", \(damaged) damaged" : "") + "]"
        for progress in running.values.sorted(by: { $0.index < $1.index }) {
            line += "  \(URL(fileURLWithPath: progress.input).lastPathComponent) \(Self.describe(progress))"
        }
        let width = Self.terminalWidth()
        if line.count > width - 1 { line = String(line.prefix(width - 2)) + "…" }
        write("\r\u{1B}[K" + line)
        statusShown = true
    }

    private func clearStatus() {
        if statusShown { write("\r\u{1B}[K") }
        statusShown = false
    }

    private func write(_ text: String) {
        writeStandardError(text)
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 10 { return Int(size.ws_col) }
        return 100
    }
}
