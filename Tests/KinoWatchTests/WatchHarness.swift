import Foundation
import KinoGraph
import KinoTestSupport
import KinoWatch

/// The bundled pipelines of this checkout only.
let testLibrary = PipelineLibrary(directories: ["\(Repository.root)/pipelines"])

/// A watcher running on a background thread over a fresh temporary directory, with every
/// event it reports kept for the test to inspect.
final class WatchHarness: @unchecked Sendable {
    let directory = TemporaryDirectory("kino-watch")
    let token = CancelToken()
    private let lock = NSLock()
    private var collected: [(time: Double, event: WatchEvent)] = []
    private var done = DispatchSemaphore(value: 0)
    private(set) var watcher: Watcher!
    private(set) var runError: (any Error)?

    var input: String { directory.file("in") }
    var output: String { directory.file("in/out") }

    init() {
        try? FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
    }

    /// Options for this harness: output folder (and ledger) inside the watched folder, on
    /// purpose, so the tests also prove Kino's own files are never picked up.
    func options(jobs: Int = 2, settle: Double = 0.2, once: Bool = false, pipeline: String = "levels",
                 maxAttempts: Int = 3) -> WatchOptions {
        WatchOptions(directory: input, outputDirectory: output, pipeline: pipeline, jobs: jobs, settle: settle,
                     once: once, maxAttempts: maxAttempts, retryDelay: 0.05, rescanInterval: 30, library: testLibrary)
    }

    /// Starts watching; returns at once. Use ``wait()`` (with `once`) or ``stop()``.
    func start(_ options: WatchOptions) throws {
        done = DispatchSemaphore(value: 0)
        watcher = try Watcher(options: options)
        let watcher = watcher!
        Thread.detachNewThread { [self] in
            do {
                try watcher.run(cancel: token) { event in self.lock.withLock { self.collected.append((Date().timeIntervalSince1970, event)) } }
            } catch {
                self.lock.withLock { self.runError = error }
            }
            self.done.signal()
        }
    }

    /// Runs a `once` watcher to the end on this thread.
    func runOnce(_ options: WatchOptions) throws {
        var options = options
        options.once = true
        try start(options)
        wait()
    }

    /// Waits for the watcher to return (a `once` run, or after ``stop()``).
    func wait(timeout: Double = 60) {
        _ = done.wait(timeout: .now() + timeout)
    }

    func stop() {
        token.cancel()
        wait()
    }

    var events: [(time: Double, event: WatchEvent)] { lock.withLock { collected } }

    /// How many times each path was started.
    var startCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for (_, event) in events { if case .started(let entry) = event { counts[entry.path, default: 0] += 1 } }
        return counts
    }

    func startTimes(of path: String) -> [Double] {
        events.compactMap { item in
            if case .started(let entry) = item.event, entry.path == path { return item.time }
            return nil
        }
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    func waitUntil(timeout: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try condition()
    }

    /// The canonical absolute path of a file in the watched folder, as the ledger keys it.
    func path(_ name: String) -> String {
        let resolved = URL(fileURLWithPath: input).resolvingSymlinksInPath().path
        return "\(resolved)/\(name)"
    }

    func cleanup() { directory.cleanup() }
}
