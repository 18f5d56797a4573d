import Dispatch
import Foundation
import KinoGraph

/// What a ``Watcher`` reports as it works (for logs and tests).
public enum WatchEvent: Sendable {
    /// Rows left `running` by an earlier crash were re-queued (or quarantined).
    case recovered(count: Int)
    /// A settled file was recorded in the ledger.
    case registered(path: String, Registration)
    /// A worker started a file.
    case started(LedgerEntry)
    /// A worker finished a file; `summary` is what `kino process` would report for it.
    case finished(LedgerEntry, FileSummary)
    /// Something went wrong outside any one file (a scan, the ledger).
    case warning(String)

    /// A log line.
    public var line: String {
        switch self {
        case .recovered(let count): return "recovered \(count) file(s) left running by an earlier run"
        case .registered(let path, let registration): return "\(path): \(registration)"
        case .started(let entry): return "\(entry.path): started (attempt \(entry.attempts))"
        case .finished(_, let summary): return summary.line
        case .warning(let text): return "warning: \(text)"
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

    /// Opens the ledger and checks the directories; nothing is watched until ``run(cancel:events:)``.
    /// - Throws: ``WatchError`` for a missing directory or an unusable ledger.
    public init(options: WatchOptions) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WatchError.notADirectory(path: options.directory)
        }
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        var options = options
        options.outputDirectory = canonicalPath(options.outputDirectory)
        let ledgerPath = options.resolvedLedgerPath
        try FileManager.default.createDirectory(atPath: (ledgerPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
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
    /// - Throws: ``WatchError`` when watching cannot start, or when another watcher holds the ledger.
    public func run(cancel: CancelToken = CancelToken(), events log: @escaping @Sendable (WatchEvent) -> Void = { _ in }) throws {
        let exclusive = try WatcherLock(ledgerPath: ledger.path)
        defer { exclusive.release() }
        lock.withLock { stopping = false }
        let recovered = try ledger.recoverInterrupted(maxAttempts: options.maxAttempts)
        if recovered > 0 { log(.recovered(count: recovered)) }
        let watch = try DirectoryEvents(root: root, recursive: options.recursive, queue: queue,
                                        isExcluded: { [filter] in filter.isExcluded(directory: $0) }) { [weak self] change in
            guard let self else { return }
            switch change {
            case .file(let path): if self.filter.accepts(file: path) { self.settler.observe(path, now: Self.now()) }
            case .directory(let path): self.scan(path, log: log)
            case .overflow: self.scan(self.root, log: log)
            }
        }
        queue.sync { scan(root, log: log) }
        var lastScan = Self.now()
        let tick = max(0.02, min(0.25, options.settle / 4))
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + tick, repeating: tick)
        timer.setEventHandler { [weak self] in
            guard let self else { return }
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
            if options.once, queue.sync(execute: { settler.count == 0 }), (try? ledger.hasPendingWork()) == false { break }
        }
        stop()
        workers.wait()
        timer.cancel()
        watch.cancel()
        queue.sync {}
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

    private var isStopping: Bool { lock.withLock { stopping } }

    /// One worker: claim, process, record, until stopped.
    private func work(log: @escaping @Sendable (WatchEvent) -> Void) {
        while !isStopping {
            let entry: LedgerEntry?
            do {
                entry = try ledger.claim()
            } catch {
                log(.warning(error.localizedDescription))
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
            let error: String? = summary.status == .completed ? nil : summary.error.map { failure in
                "stage '\(failure.stage)'" + (failure.seconds.map { String(format: " at %.3f s", $0) } ?? "") + ": \(failure.message)"
            } ?? "cancelled"
            do {
                try ledger.finish(entry, error: error, interrupted: interrupted,
                                  maxAttempts: options.maxAttempts, retryDelay: options.retryDelay)
            } catch {
                log(.warning(error.localizedDescription))
            }
            log(.finished(entry, summary))
        }
    }

    /// Walks `directory` and hands every acceptable file not already recorded as it is now to
    /// the settler. Runs on `queue`.
    private func scan(_ directory: String, log: @Sendable (WatchEvent) -> Void) {
        let known: [String: (Int, Double)]
        do {
            known = try ledger.knownStats()
        } catch {
            log(.warning(error.localizedDescription))
            return
        }
        let now = Self.now()
        var folders = [directory]
        while let folder = folders.popLast() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names {
                let path = "\(folder)/\(name)"
                if let stat = FileSettler.stat(path) {
                    guard filter.accepts(file: path) else { continue }
                    if let seen = known[path], seen.0 == stat.size, seen.1 == stat.mtime { continue }
                    settler.observe(path, now: now)
                } else if options.recursive, !filter.isExcluded(directory: path) {
                    var isDirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                        folders.append(path)
                    }
                }
            }
        }
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
                log(.warning(error.localizedDescription))
            }
        }
        for _ in 0..<min(added, options.jobs) { wake.signal() }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}

