import Foundation
import KinoFiles

/// Decides, once, who reports a file: the run itself or a caller that gave up waiting for it.
final class RunOwnership: Sendable {
    private let taken = Locked(false)

    /// `true` for the first caller only.
    func claim() -> Bool {
        taken.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
}

extension ProcessRunner {
    /// Runs a file on its own thread and waits at most `timeout + abandonAfter` seconds.
    ///
    /// The run's own timer cancels it at `timeout`, which ends any run whose stages look at
    /// their token. One that does not (a source blocked inside FFmpeg on a dead network share)
    /// is abandoned: the file is reported failed with stage `timeout`, its `.incomplete` folder
    /// gets that summary, and the caller's worker is free for the next file. If the stuck run
    /// ever returns, it finds the file already reported and neither publishes nor reports.
    func executeWithDeadline(_ input: String, name: String, index: Int, cancel: CancelToken,
                             events: @escaping @Sendable (ProcessEvent) -> Void) -> FileSummary {
        let ownership = RunOwnership()
        let result = Locked<FileSummary?>(nil)
        let done = DispatchSemaphore(value: 0)
        let started = Date()
        // A thread of its own, not a pool thread: a stuck run must not use up Dispatch's
        // width-limited global pool, which every later file would then queue behind.
        Thread.detachNewThread {
            result.withLock { $0 = self.execute(input, name: name, index: index, cancel: cancel, events: events,
                                                ownership: ownership) }
            done.signal()
        }
        let limit = (options.timeout ?? 0) + options.abandonAfter
        if done.wait(timeout: .now() + limit) == .success, let summary = result.current { return summary }
        cancel.cancel()
        guard ownership.claim() else {
            // The run reached its end just now and has reported itself.
            done.wait()
            return result.current ?? FileSummary(input: input, status: .failed)
        }
        let folder = OutputFolder(root: options.outputDirectory, name: name)
        let message = String(format: "still running %.1f s after its %.1f s timeout (blocked where it cannot be cancelled); abandoned",
                             options.abandonAfter, options.timeout ?? 0)
        // The run may be stuck before its folder was made (a probe blocked on a dead share).
        let hasFolder = FileManager.default.fileExists(atPath: folder.workPath)
        let summary = FileSummary(input: input, status: .failed, output: hasFolder ? folder.workPath : nil,
                                  error: FileSummary.Failure(stage: "timeout", seconds: nil, message: message),
                                  wallSeconds: Date().timeIntervalSince(started), startedAt: started)
        if hasFolder {
            try? AtomicFile.write(summary.jsonData(), to: "\(folder.workPath)/summary.json")
        }
        events(.finished(index: index, summary: summary))
        return summary
    }
}
