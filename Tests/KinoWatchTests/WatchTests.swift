import Foundation
import KinoGraph
import KinoTestSupport
import KinoWatch
import Testing

@Suite("Watch folder", .serialized)
struct WatchTests {
    @Test("a file written slowly in chunks is taken once, only after the writer closed it")
    func slowWriter() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try harness.start(harness.options(settle: 0.2))
        let path = harness.input + "/slow.wav"
        let data = TinyMedia.wavData(seconds: 2)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let chunk = data.count / 5
        for i in 0..<5 {
            try handle.write(contentsOf: data[(i * chunk)..<(i == 4 ? data.count : (i + 1) * chunk)])
            Thread.sleep(forTimeInterval: i == 2 ? 0.6 : 0.1)   // a pause longer than the settle time, file still open
        }
        let closed = Date().timeIntervalSince1970
        try handle.close()
        let canonical = harness.path("slow.wav")
        #expect(try harness.waitUntil { try harness.watcher.ledger.entry(path: canonical)?.state == .done })
        Thread.sleep(forTimeInterval: 0.4)
        harness.stop()
        let starts = harness.startTimes(of: canonical)
        #expect(starts.count == 1)
        #expect((starts.first ?? 0) >= closed)
        let summary = try FileSummary.read(from: harness.output + "/slow/summary.json")
        #expect(abs((summary.mediaDuration ?? 0) - 2) < 0.01)
    }

    @Test("200 files dropped at once with 2 jobs: each processed exactly once, outputs ignored")
    func manyFiles() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try harness.start(harness.options(jobs: 2, settle: 0.2))
        let data = TinyMedia.wavData(seconds: 0.05)
        let staging = harness.directory.file("staging")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for i in 0..<200 {   // written elsewhere, then renamed in: how a careful writer publishes
            try data.write(to: URL(fileURLWithPath: "\(staging)/f\(i).wav"))
            rename("\(staging)/f\(i).wav", "\(harness.input)/f\(i).wav")
        }
        #expect(try harness.waitUntil(timeout: 120) { try harness.watcher.ledger.counts()[.done] == 200 })
        Thread.sleep(forTimeInterval: 0.5)   // give a double dispatch, if any, time to show
        harness.stop()
        let counts = harness.startCounts
        #expect(counts.count == 200 && counts.values.allSatisfy { $0 == 1 })
        #expect(try harness.watcher.ledger.entries().count == 200)   // nothing of out/ or the ledger registered
        let folders = try FileManager.default.contentsOfDirectory(atPath: harness.output).filter { $0.hasPrefix("f") }
        #expect(folders.count == 200 && folders.allSatisfy { !$0.hasSuffix(".incomplete") })
    }

    @Test("not media (junk, a README): rejected once, no output, logged; a media file the pipeline fails on is quarantined and logged; fixed content is redone")
    func corrupt() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        for i in 0..<3 { try TinyMedia.writeWAV(to: harness.input + "/ok\(i).wav", seconds: 0.1) }
        try TinyMedia.writeCorrupt(to: harness.input + "/bad.wav")
        try Data("notes, not media\n".utf8).write(to: URL(fileURLWithPath: harness.input + "/README.txt"))
        // Media, but without the audio the `levels` pipeline decodes: a pipeline failure, retried.
        try FileManager.default.copyItem(atPath: "\(Repository.root)/samples/still.png", toPath: harness.input + "/still.png")
        try harness.runOnce(harness.options(maxAttempts: 2))
        let ledger = harness.watcher.ledger
        for name in ["bad.wav", "README.txt"] {
            let row = try #require(try ledger.entry(path: harness.path(name)))
            #expect(row.state == .rejected && row.attempts == 1, "\(name)")
            #expect(row.lastError?.contains("not a media file") == true)
            #expect(harness.startCounts[harness.path(name)] == 1)
        }
        let still = try #require(try ledger.entry(path: harness.path("still.png")))
        #expect(still.state == .quarantined && still.attempts == 2)
        #expect(try ledger.counts() == [.done: 3, .rejected: 2, .quarantined: 1])
        let outputs = try FileManager.default.contentsOfDirectory(atPath: harness.output)
        #expect(!outputs.contains { $0.hasPrefix("bad") || $0.hasPrefix("README") })
        let lines = harness.events.map(\.event.line)
        #expect(lines.contains { $0.contains("README.txt: rejected") && $0.contains("not retried") })
        #expect(lines.contains { $0.contains("still.png") && $0.contains("quarantined after 2 attempt(s)") })
        #expect(lines.contains { $0.contains("still.png") && $0.contains("attempt 1 failed, retried") })

        // Fixed content under the same name (say, a download that finally completed): taken again.
        try TinyMedia.writeWAV(to: harness.input + "/bad.wav", seconds: 0.3)
        try harness.runOnce(harness.options(maxAttempts: 2))
        let fixed = try #require(try harness.watcher.ledger.entry(path: harness.path("bad.wav")))
        #expect(fixed.state == .done && fixed.attempts == 1 && fixed.lastError == nil)
        #expect(FileManager.default.fileExists(atPath: harness.output + "/bad/summary.json"))
        #expect(try harness.watcher.ledger.entry(path: harness.path("README.txt"))?.attempts == 1)   // not tried again
    }

    @Test("temporary names wait; a file renamed or moved in is taken")
    func renamedIn() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try harness.start(harness.options(settle: 0.1))
        try TinyMedia.writeWAV(to: harness.input + "/clip.wav.part", seconds: 0.1)
        try TinyMedia.writeWAV(to: harness.input + "/.hidden.wav", seconds: 0.1)
        try TinyMedia.writeWAV(to: harness.directory.file("elsewhere.wav"), seconds: 0.1)
        Thread.sleep(forTimeInterval: 0.6)
        #expect(try harness.watcher.ledger.entries().isEmpty)
        rename(harness.input + "/clip.wav.part", harness.input + "/clip.wav")
        rename(harness.directory.file("elsewhere.wav"), harness.input + "/moved.wav")
        let ok = try harness.waitUntil {
            try harness.watcher.ledger.entries().filter { $0.state == .done }.map(\.path).sorted()
                == [harness.path("clip.wav"), harness.path("moved.wav")]
        }
        harness.stop()
        #expect(ok)
        #expect(try harness.watcher.ledger.entries().count == 2)
    }

    @Test("a restart does not redo done files; a touched file is not redone; a changed one is")
    func restart() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        for name in ["a", "b", "c"] { try TinyMedia.writeWAV(to: harness.input + "/\(name).wav", seconds: 0.2) }
        try harness.runOnce(harness.options())
        #expect(try harness.watcher.ledger.counts()[.done] == 3)
        #expect(harness.startCounts.count == 3)

        // Same content, new mtime: the fingerprint says nothing changed.
        let touched = Date().addingTimeInterval(5)
        try FileManager.default.setAttributes([.modificationDate: touched], ofItemAtPath: harness.input + "/a.wav")
        // New content.
        try TinyMedia.writeWAV(to: harness.input + "/b.wav", seconds: 0.7)
        let second = WatchHarness.Rerun(harness)
        try second.run()
        #expect(second.started == [harness.path("b.wav")])
        let b = try #require(try harness.watcher.ledger.entry(path: harness.path("b.wav")))
        #expect(b.state == .done && b.attempts == 1)
        let summary = try FileSummary.read(from: harness.output + "/b/summary.json")
        #expect(abs((summary.mediaDuration ?? 0) - 0.7) < 0.01)
        #expect(try harness.watcher.ledger.counts()[.done] == 3)
    }
}

extension WatchHarness {
    /// A second `once` run over the same folders, counting what it starts.
    final class Rerun: @unchecked Sendable {
        let harness: WatchHarness
        private let lock = NSLock()
        private var paths: [String] = []

        init(_ harness: WatchHarness) { self.harness = harness }

        var started: [String] { lock.withLock { paths.sorted() } }

        func run() throws {
            var options = harness.options()
            options.once = true
            let watcher = try Watcher(options: options)
            try watcher.run { event in
                if case .started(let entry) = event { self.lock.withLock { self.paths.append(entry.path) } }
            }
        }
    }
}

@Suite("Watch folder: trees and patterns", .serialized)
struct WatchTreeTests {
    @Test("recursive: a new sub-directory is watched, outputs mirror the tree, --include filters names")
    func recursive() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        var options = harness.options(settle: 0.1)
        options.recursive = true
        options.include = ["*.wav"]
        try harness.start(options)
        try FileManager.default.createDirectory(atPath: harness.input + "/day1/cam", withIntermediateDirectories: true)
        Thread.sleep(forTimeInterval: 0.2)       // the new directories get their watches
        try TinyMedia.writeWAV(to: harness.input + "/day1/cam/take.wav", seconds: 0.1)
        try TinyMedia.writeWAV(to: harness.input + "/take.wav", seconds: 0.1)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: harness.input + "/day1/notes.txt"))
        let ok = try harness.waitUntil { try harness.watcher.ledger.counts()[.done] == 2 }
        Thread.sleep(forTimeInterval: 0.3)
        harness.stop()
        #expect(ok)
        let entries = try harness.watcher.ledger.entries()
        #expect(entries.map(\.output).sorted() == ["day1/cam/take", "take"])
        #expect(FileManager.default.fileExists(atPath: harness.output + "/day1/cam/take/summary.json"))
    }

    @Test("a queued file deleted before its turn is forgotten, not failed")
    func vanished() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        let ledger = try Ledger(path: harness.output + "-ledger.sqlite")
        _ = try ledger.register(path: harness.path("gone.wav"), size: 1, mtime: 1, fingerprint: { "x" }, outputStem: "gone")
        var options = harness.options()
        options.ledgerPath = harness.output + "-ledger.sqlite"
        try harness.runOnce(options)
        #expect(try harness.watcher.ledger.entries().isEmpty)
        #expect(harness.startCounts.isEmpty)
    }
}

@Suite("Watch folder: shutdown", .serialized)
struct WatchShutdownTests {
    @Test("stopping mid-run re-queues the files in flight without counting the attempt")
    func stopRequeues() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        let pipeline = harness.directory.file("slow.yaml")
        try """
            name: slow-levels
            stages:
              - {id: audio, kind: decode, options: {stream: audio, chunk: 16}}
              - {id: levels, kind: measure, inputs: [audio]}
              - {id: out, kind: jsonl, inputs: [levels], options: {path: levels.jsonl}}
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        for i in 0..<4 { try TinyMedia.writeWAV(to: harness.input + "/t\(i).wav", seconds: 8) }
        try harness.start(harness.options(jobs: 2, settle: 0.05, pipeline: pipeline))
        let running = try harness.waitUntil { try harness.watcher.ledger.counts()[.running] == 2 }
        harness.stop()
        #expect(running)
        let entries = try harness.watcher.ledger.entries()
        #expect(entries.allSatisfy { $0.state == .queued || $0.state == .done })
        let requeued = entries.filter { $0.state == .queued && $0.startedAt != nil }
        #expect(requeued.count == 2 && requeued.allSatisfy { $0.attempts == 0 })
        for entry in requeued {
            #expect(!FileManager.default.fileExists(atPath: "\(harness.output)/\(entry.output)"))
            let summary = try FileSummary.read(from: "\(harness.output)/\(entry.output).incomplete/summary.json")
            #expect(summary.status == .cancelled)
        }
    }
}

/// A source that, for inputs named `stuck*`, sleeps without looking at its cancel token — as a
/// decoder blocked in a C read would; other inputs end at once.
final class BlockingSource: SourceStage {
    let path: String?
    init(path: String?) { self.path = path }
    var inputTypes: [PortType] { [] }
    var outputType: PortType? { .audio }
    func produce(into output: StageOutput) throws {
        if path.map({ ($0 as NSString).lastPathComponent.hasPrefix("stuck") }) == true { Thread.sleep(forTimeInterval: 4) }
    }
}

extension WatchShutdownTests {
    @Test("a run that ignores cancellation is abandoned after its timeout; one worker still gets through the others")
    func stuckFile() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        var registry = StageRegistry.builtIn
        registry.register(StageKind(name: "block", summary: "blocks on stuck* inputs", inputs: "none", output: "audio",
                                    options: []) { _, context in BlockingSource(path: context.inputPath) })
        let pipeline = harness.directory.file("block.yaml")
        try """
            name: block
            stages:
              - {id: source, kind: block}
              - {id: facts, kind: measure, inputs: [source]}
              - {id: out, kind: jsonl, inputs: [facts], options: {path: facts.jsonl}}
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        for name in ["stuck.wav", "a.wav", "b.wav"] { try TinyMedia.writeWAV(to: harness.input + "/\(name)", seconds: 0.1) }
        var options = harness.options(jobs: 1, settle: 0.05, pipeline: pipeline, maxAttempts: 1)
        options.registry = registry
        options.timeout = 0.2
        options.abandonAfter = 0.2
        let started = Date()
        try harness.runOnce(options)
        #expect(Date().timeIntervalSince(started) < 3.5)     // did not wait out the 4 s sleep
        let stuck = try #require(try harness.watcher.ledger.entry(path: harness.path("stuck.wav")))
        #expect(stuck.state == .quarantined && stuck.lastError?.contains("abandoned") == true)
        #expect(try harness.watcher.ledger.counts()[.done] == 2)
    }
}

extension WatchShutdownTests {
    @Test("a second watcher on the same ledger is refused while the first runs, allowed after")
    func oneWatcherPerLedger() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try harness.start(harness.options())
        #expect(harness.waitUntil { FileManager.default.fileExists(atPath: harness.output + "/kino-ledger.sqlite.lock") })
        Thread.sleep(forTimeInterval: 0.1)
        let second = try Watcher(options: harness.options(once: true))
        #expect(throws: WatchError.self) { try second.run() }
        harness.stop()
        try second.run()                 // the first has let go
        #expect(try second.ledger.entries().isEmpty)  // the lock file is not an input
    }
}
