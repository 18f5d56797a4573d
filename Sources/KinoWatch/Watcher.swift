import Dispatch
import Foundation
import KinoGraph

/// What a ``Watcher`` reports as it works (for logs and tests).
public enum WatchEvent: Sendable {
    /// Rows left `running` by an earlier crash were re-queued (or quarantined).
    case recovered(count: Int)
    /// A row left `running` whose run had published its folder before the ledger could record
    /// it (the watcher stopped in between): recorded from the folder's `summary.json`.
    case adopted(path: String, LedgerEntry.State)
    /// A settled file was recorded in the ledger.
    case registered(path: String, Registration)
    /// A worker started a file.
    case started(LedgerEntry)
    /// A worker finished a file; `summary` is what `kino process` would report for it, and
    /// the entry's state what the ledger recorded (say, `quarantined` after the last attempt).
    case finished(LedgerEntry, FileSummary)
    /// A name in the watched tree that is not processed and why (said once per name and run):
    /// not valid UTF-8 (escaped as `\xNN`), a symbolic link, a folder that cannot be listed.
    case skipped(path: String, reason: String)
    /// Something went wrong outside any one file (a scan, the ledger).
    case warning(String)

    /// A log line.
    public var line: String {
        switch self {
        case .recovered(let count): return "recovered \(count) file(s) left running by an earlier run"
        case .adopted(let path, let state):
            return "\(path): its output was published before the watcher stopped; recorded as \(state.rawValue)"
        case .registered(let path, let registration): return "\(path): \(registration)"
        case .started(let entry): return "\(entry.path): started (attempt \(entry.attempts))"
        case .finished(let entry, let summary): return Self.finishedLine(entry, summary)
        case .skipped(let path, let reason): return "\(path): skipped: \(reason)"
        case .warning(let text): return "warning: \(text)"
        }
    }

    private static func finishedLine(_ entry: LedgerEntry, _ summary: FileSummary) -> String {
        switch entry.state {
        case .rejected:
            return "\(entry.path): rejected: \(entry.lastError ?? "not a media file"); recorded once, no output, not retried"
        case .damaged:
            return summary.line + "; damaged (\(entry.lastError ?? "decoding errors")): outputs kept, not retried"
        case .quarantined:
            return summary.line + "; quarantined after \(entry.attempts) attempt(s): not retried until its content"
                + " changes or `kino ledger retry`"
        case .failed:
            let retry = entry.retryAt.map { String(format: " in %.1f s", max(0, $0 - entry.updatedAt)) } ?? ""
            return summary.line + "; attempt \(entry.attempts) failed, retried\(retry)"
        case .queued, .running, .done:
            return summary.line
        }
    }
}

/// Watches a directory and runs a pipeline on every file that arrives in it, once.
///
/// Files are found by inotify events plus a full scan at start and every
/// ``WatchOptions/rescanInterval``; each waits in ``FileSettler`` until complete, is recorded
/// in the ``Ledger`` (which decides whether it is new, changed or already done), and is
/// processed by one of ``WatchOptions/jobs`` workers through ``ProcessRunner`` into an atomic
/// output folder. A worker busy with a slow file holds only itself; ``WatchOptions/timeout``
/// bounds a stuck one.
///
/// ```swift
/// let watcher = try Watcher(options: WatchOptions(directory: "in", outputDirectory: "out", once: true))
/// try watcher.run(cancel: token) { print($0.line) }
/// ```
public final class Watcher: @unchecked Sendable {
    public let options: WatchOptions
    public let ledger: Ledger
    /// The watched directory, canonical (symlinks resolved).
    public let root: String
    let filter: WatchFilter
    let runner: ProcessRunner
    private let queue = DispatchQueue(label: "kino.watch")
    private let settler: FileSettler
    private let wake = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopping = false
    private var active: [Int: CancelToken] = [:]
    /// The error that stopped the watcher (the ledger could not be written, or was deleted).
    private var failure: WatchError?
    /// Paths (as bytes) already reported as skipped in this run; used on `queue` only.
    private var reported: Set<[UInt8]> = []

    /// Opens the ledger and checks the directories; nothing is watched until ``run(cancel:events:)``.
    /// - Throws: ``WatchError`` for a missing directory, an output folder that cannot be
    ///   created, or an unusable ledger.
    public init(options: WatchOptions) throws {
        guard DirectoryListing.kind(of: canonicalPath(options.directory)) == .directory else {
            throw WatchError.notADirectory(path: options.directory)
        }
        try makeDirectories(options.outputDirectory)
        var options = options
        options.outputDirectory = canonicalPath(options.outputDirectory)
        let ledgerPath = options.resolvedLedgerPath
        try makeDirectories((ledgerPath as NSString).deletingLastPathComponent)
        options.ledgerPath = canonicalPath((ledgerPath as NSString).deletingLastPathComponent) + "/" + (ledgerPath as NSString).lastPathComponent
        self.options = options
        root = canonicalPath(options.directory)
        filter = WatchFilter(root: root, outputDirectory: options.outputDirectory,
                             ledgerPath: options.ledgerPath!, include: options.include)
        ledger = try Ledger(path: options.ledgerPath!)
        settler = FileSettler(settle: options.settle)
        var processing = ProcessOptions(
            pipeline: options.pipeline, outputDirectory: options.outputDirectory, jobs: 1, library: options.library,
            registry: options.registry, timeout: options.timeout, progressInterval: 5)
        processing.abandonAfter = options.abandonAfter
        runner = ProcessRunner(options: processing)
    }

    /// Watches until `cancel` is cancelled or, with ``WatchOptions/once``, until every file
    /// present has been processed. In-flight files are then cancelled and re-queued.
    ///
    /// A ledger that can no longer be written (a full disk) or that was deleted or replaced
    /// stops the watcher: in-flight files are cancelled and the error is thrown. What was
    /// committed stays; a file whose folder was published but whose result could not be
    /// recorded is recorded from its `summary.json` on the next start, not processed again.
    /// - Throws: ``WatchError`` when watching cannot start, when another watcher holds the
    ///   ledger, or when the ledger fails while watching.
    public func run(cancel: CancelToken = CancelToken(), events log: @escaping @Sendable (WatchEvent) -> Void = { _ in }) throws {
        let exclusive = try WatcherLock(ledgerPath: ledger.path)
        defer { exclusive.release() }
        lock.withLock {
            stopping = false
            failure = nil
        }
        try adoptPublished(log: log)
        let recovered = try ledger.recoverInterrupted(maxAttempts: options.maxAttempts)
        if recovered > 0 { log(.recovered(count: recovered)) }
        let watch = try DirectoryEvents(root: root, recursive: options.recursive, queue: queue,
                                        isExcluded: { [filter] in filter.isExcluded(directory: $0) }) { [weak self] change in
            guard let self else { return }
            switch change {
            case .file(let path): self.consider(path, now: Self.now(), known: nil, log: log)
            case .directory(let path): self.scan(path, log: log)
            case .overflow: self.scan(self.root, log: log)
            case .undecodable(let directory, let name): self.reportUndecodable(directory, name, log: log)
            }
        }
        queue.sync { scan(root, log: log) }
        var lastScan = Self.now()
        let tick = max(0.02, min(0.25, options.settle / 4))
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + tick, repeating: tick)
        timer.setEventHandler { [weak self] in
            guard let self, !self.isStopping else { return }
            if let problem = self.ledger.replacedOrDeleted() {
                self.fail(problem)
                return
            }
            let now = Self.now()
            if now - lastScan >= self.options.rescanInterval {
                lastScan = now
                self.scan(self.root, log: log)
            }
            self.register(self.settler.settled(now: now), log: log)
        }
        timer.resume()

        let workers = DispatchGroup()
        for index in 0..<options.jobs {
            DispatchQueue(label: "kino.watch.worker.\(index)").async(group: workers) { self.work(log: log) }
        }
        let stopped = DispatchSemaphore(value: 0)
        cancel.onCancel { stopped.signal() }
        while stopped.wait(timeout: .now() + 0.1) == .timedOut {
            if lock.withLock({ failure != nil }) { break }
            guard options.once, queue.sync(execute: { settler.count == 0 }) else { continue }
            do {
                if try !ledger.hasPendingWork() { break }
            } catch {
                fail(error)
            }
        }
        stop()
        workers.wait()
        timer.cancel()
        watch.cancel()
        queue.sync {}
        if let failure = lock.withLock({ failure }) { throw failure }
        try? ledger.checkpoint()
    }

    /// Stops workers from taking files and cancels the ones in flight.
    private func stop() {
        let tokens: [CancelToken] = lock.withLock {
            stopping = true
            return Array(active.values)
        }
        tokens.forEach { $0.cancel() }
        for _ in 0..<options.jobs { wake.signal() }
    }

    /// Stops the watcher because of `error`: a ledger error, or (anything else) a warning.
    /// Returns whether the watcher is stopping for it.
    @discardableResult
    private func fail(_ error: any Error, log: (WatchEvent) -> Void = { _ in }) -> Bool {
        guard let error = error as? WatchError, case .ledger = error else {
            log(.warning((error as? WatchError)?.localizedDescription ?? WatchError.cause(of: error)))
            return false
        }
        let first = lock.withLock { () -> Bool in
            guard failure == nil else { return false }
            failure = error
            return true
        }
        if first { stop() }
        return true
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    /// One worker: claim, process, record, until stopped.
    private func work(log: @escaping @Sendable (WatchEvent) -> Void) {
        while !isStopping {
            let entry: LedgerEntry?
            do {
                entry = try ledger.claim()
            } catch {
                if fail(error, log: log) { return }
                _ = wake.wait(timeout: .now() + 1)
                continue
            }
            guard let entry else {
                let delay = min(0.25, (try? ledger.nextRetryDelay()).flatMap { $0 } ?? 0.25)
                _ = wake.wait(timeout: .now() + max(0.01, delay))
                continue
            }
            if FileSettler.stat(entry.path) == nil {
                // Deleted (or replaced by a non-file) since it was queued: nothing to process, and
                // a file that comes back under the name is new.
                try? ledger.forget(path: entry.path)
                log(.warning("\(entry.path): gone before it could be processed; forgotten"))
                continue
            }
            let token = CancelToken()
            lock.withLock {
                active[entry.id] = token
                if stopping { token.cancel() }
            }
            log(.started(entry))
            let summary = runner.process(entry.path, name: entry.output, cancel: token)
            let interrupted = lock.withLock { () -> Bool in
                active[entry.id] = nil
                return stopping && summary.status == .cancelled
            }
            let outcome = Self.outcome(of: summary)
            var recorded = entry
            do {
                recorded.state = try ledger.finish(entry, outcome: outcome, interrupted: interrupted,
                                                   maxAttempts: options.maxAttempts, retryDelay: options.retryDelay)
                recorded = (try? ledger.entry(path: entry.path)) ?? recorded
            } catch {
                // Not recorded: the row stays `running`. If the folder was published, the next
                // start records it from its summary.json (``adoptPublished(log:)``).
                log(.finished(entry, summary))
                if fail(error, log: log) { return }
                continue
            }
            log(.finished(recorded, summary))
        }
    }

    /// What the ledger records for a run's summary.
    static func outcome(of summary: FileSummary) -> Ledger.Outcome {
        switch summary.status {
        case .completed:
            return .done
        case .damaged:
            return .damaged(summary.damage.map(describe) ?? "decoding errors")
        case .rejected:
            return .rejected(summary.error?.message ?? "not a media file")
        case .failed, .cancelled:
            return .failed(summary.error.map { failure in
                "stage '\(failure.stage)'" + (failure.seconds.map { String(format: " at %.3f s", $0) } ?? "") + ": \(failure.message)"
            } ?? "cancelled")
        }
    }

    /// `video:0: 3 decode error(s), 1 corrupt frame(s), reached 4.00 of 6.00 s (first: …)`.
    static func describe(_ damage: FileSummary.Damage) -> String {
        damage.streams.map { stream in
            var text = "\(stream.stream): \(stream.decodeErrors) decode error(s), \(stream.corruptFrames) corrupt frame(s)"
            if let reached = stream.reachedSeconds {
                text += String(format: ", reached %.2f", reached) + (stream.expectedSeconds.map { String(format: " of %.2f s", $0) } ?? " s")
            }
            if let first = stream.firstErrors.first { text += " (first: \(first))" }
            return text
        }.joined(separator: "; ")
    }

    /// Rows left `running` whose run published its folder before the result was recorded (the
    /// ledger failed, or the process died between the rename and the commit): recorded from the
    /// folder's `summary.json` rather than processed again.
    private func adoptPublished(log: (WatchEvent) -> Void) throws {
        for entry in try ledger.entries(state: .running) {
            let folder = OutputFolder(root: options.outputDirectory, name: entry.output).finalPath
            guard let summary = try? FileSummary.read(from: folder + "/summary.json"), summary.input == entry.path,
                  let claimed = entry.startedAt,
                  // summary.json keeps whole seconds; a result of earlier content started before the claim.
                  summary.startedAt.timeIntervalSince1970 >= claimed.rounded(.down) else { continue }
            let outcome = Self.outcome(of: summary)
            guard outcome == .done || { if case .damaged = outcome { return true }; return false }() else { continue }
            let state = try ledger.finish(entry, outcome: outcome, maxAttempts: options.maxAttempts, retryDelay: options.retryDelay)
            log(.adopted(path: entry.path, state))
        }
    }

    /// Walks `directory` and hands every acceptable file not already recorded as it is now to
    /// the settler. Runs on `queue`.
    private func scan(_ directory: String, log: @Sendable (WatchEvent) -> Void) {
        guard !isStopping else { return }
        let known: [String: (Int, Double)]
        do {
            known = try ledger.knownStats()
        } catch {
            fail(error, log: log)
            return
        }
        let now = Self.now()
        var folders = [directory]
        while let folder = folders.popLast() {
            let names: [[UInt8]]
            do {
                names = try DirectoryListing.names(in: folder)
            } catch {
                report(Array(folder.utf8), path: folder, "cannot list the folder: \((error as? WatchError).map(\.cause) ?? "\(error)")",
                       log: log)
                continue
            }
            for raw in names {
                guard let name = DirectoryListing.text(raw) else {
                    reportUndecodable(folder, raw, log: log)
                    continue
                }
                let path = "\(folder)/\(name)"
                if consider(path, now: now, known: known, log: log) == .directory, options.recursive,
                   !filter.isExcluded(directory: path) {
                    folders.append(path)
                }
            }
        }
    }

    /// Hands `path` to the settler if it is an acceptable regular file not recorded as it is
    /// now (`known`, or the ledger when `nil`); says once why a link is skipped. Runs on `queue`.
    @discardableResult
    private func consider(_ path: String, now: Double, known: [String: (Int, Double)]?,
                          log: @Sendable (WatchEvent) -> Void) -> DirectoryListing.Kind {
        let kind = DirectoryListing.kind(of: path)
        switch kind {
        case .file:
            guard filter.accepts(file: path) else { break }
            if let known, let stat = FileSettler.stat(path), let seen = known[path], seen.0 == stat.size, seen.1 == stat.mtime { break }
            settler.observe(path, now: now)
        case .symbolicLink:
            guard filter.accepts(file: path) else { break }
            report(Array(path.utf8), path: path, "a symbolic link; links are not followed (only regular files are inputs)", log: log)
        case .directory, .other, .missing:
            break
        }
        return kind
    }

    private func reportUndecodable(_ directory: String, _ name: [UInt8], log: @Sendable (WatchEvent) -> Void) {
        guard name.first != 0x2e else { return }   // hidden, like any dotfile
        let path = "\(directory)/\(DirectoryListing.escaped(name))"
        report(Array(directory.utf8) + [0x2f] + name, path: path,
               "its name is not valid UTF-8, which Kino cannot pass on (ledger, FFmpeg, output folder names); rename it",
               log: log)
    }

    /// Logs a skipped path once per run. Runs on `queue`.
    private func report(_ key: [UInt8], path: String, _ reason: String, log: @Sendable (WatchEvent) -> Void) {
        guard reported.insert(key).inserted else { return }
        log(.skipped(path: path, reason: reason))
    }

    /// Records settled files in the ledger and wakes workers for new work. Runs on `queue`.
    private func register(_ files: [(path: String, stat: FileSettler.Stat)], log: @Sendable (WatchEvent) -> Void) {
        var added = 0
        for file in files {
            do {
                let result = try ledger.register(path: file.path, size: file.stat.size, mtime: file.stat.mtime,
                                                 fingerprint: { try Fingerprint.of(path: file.path) },
                                                 outputStem: filter.outputStem(for: file.path))
                if result == .added || result == .changed {
                    added += 1
                    log(.registered(path: file.path, result))
                }
            } catch {
                if fail(error, log: log) { return }
            }
        }
        for _ in 0..<min(added, options.jobs) { wake.signal() }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}

/// `mkdir -p` with a plain error: the folder and `strerror`'s cause.
func makeDirectories(_ path: String) throws {
    guard !path.isEmpty else { return }
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/\(component)"
        if mkdir(current, 0o755) != 0, errno != EEXIST {
            throw WatchError.cannotCreate(path: current, message: String(cString: strerror(errno)))
        }
    }
    guard DirectoryListing.kind(of: canonicalPath(path)) == .directory else {
        throw WatchError.cannotCreate(path: path, message: "it exists and is not a folder")
    }
}
