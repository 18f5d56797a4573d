import Foundation
import Glibc
import KinoGraph
import KinoTestSupport
@testable import KinoWatch
import Testing

/// Issue 12: honest results (rejected, damaged, quarantined said and recorded) and a safe
/// output contract (links, odd names, long names, a full disk, a deleted ledger).
@Suite("Ledger: terminal states, upgrade, read-only")
struct LedgerContractTests {
    @Test("damaged and rejected are recorded once, never claimed again, listed and counted; new content re-queues them")
    func terminalStates() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let ledger = try Ledger(path: directory.file("ledger.sqlite"))
        for name in ["d", "r", "q"] {
            _ = try ledger.register(path: "/in/\(name)", size: 1, mtime: 1, fingerprint: { name }, outputStem: name)
        }
        let states: [LedgerEntry.State] = try ["d", "r", "q"].map { _ in
            let entry = try #require(try ledger.claim())
            switch entry.path {
            case "/in/d": return try ledger.finish(entry, outcome: .damaged("video:0: 2 decode error(s)"), maxAttempts: 1, retryDelay: 0)
            case "/in/r": return try ledger.finish(entry, outcome: .rejected("not a media file"), maxAttempts: 3, retryDelay: 0)
            default: return try ledger.finish(entry, outcome: .failed("boom"), maxAttempts: 1, retryDelay: 0)
            }
        }
        #expect(states == [.damaged, .rejected, .quarantined])
        #expect(try ledger.claim() == nil)
        #expect(try !ledger.hasPendingWork())
        #expect(try ledger.counts() == [.damaged: 1, .rejected: 1, .quarantined: 1])
        #expect(try ledger.entries(state: .rejected).map(\.path) == ["/in/r"])
        #expect(try ledger.entry(path: "/in/d")?.lastError == "video:0: 2 decode error(s)")
        #expect(try ledger.entry(path: "/in/r").map { ($0.attempts, $0.retryAt) } ?? (0, 1) == (1, nil))

        // The same content again changes nothing; new content is processed as usual.
        #expect(try ledger.register(path: "/in/r", size: 1, mtime: 1, fingerprint: { "r" }, outputStem: "r") == .unchanged)
        #expect(try ledger.register(path: "/in/r", size: 2, mtime: 2, fingerprint: { "r2" }, outputStem: "r") == .changed)
        #expect(try ledger.register(path: "/in/d", size: 2, mtime: 2, fingerprint: { "d2" }, outputStem: "d") == .changed)
        #expect(try ledger.counts() == [.queued: 2, .quarantined: 1])
        try ledger.retry(path: "/in/q")
        #expect(try ledger.entry(path: "/in/q")?.state == .queued)
    }

    @Test("a version 1 ledger (no damaged/rejected in its CHECK) is upgraded in place, rows kept")
    func upgrade() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("old.sqlite")
        do {
            let old = try SQLiteConnection(path: path)
            try old.execute("""
                PRAGMA journal_mode=WAL;
                CREATE TABLE files (
                    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, mtime REAL NOT NULL,
                    fingerprint TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','quarantined')),
                    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, output TEXT NOT NULL UNIQUE,
                    queued_at REAL, started_at REAL, finished_at REAL, retry_at REAL, updated_at REAL NOT NULL);
                CREATE INDEX files_by_state ON files (state, id);
                PRAGMA user_version=1;
                INSERT INTO files (path, size, mtime, fingerprint, state, attempts, output, updated_at)
                    VALUES ('/in/a', 1, 1, 'fa', 'done', 1, 'a', 0), ('/in/b', 1, 1, 'fb', 'queued', 0, 'b', 0);
                """)
        }
        #expect(try Ledger(path: path, readOnly: true).counts() == [.done: 1, .queued: 1])   // readable as it is
        let ledger = try Ledger(path: path)
        #expect(try ledger.counts() == [.done: 1, .queued: 1])
        let entry = try #require(try ledger.claim())
        #expect(entry.path == "/in/b")
        #expect(try ledger.finish(entry, outcome: .rejected("not a media file"), maxAttempts: 3, retryDelay: 0) == .rejected)
        #expect(try ledger.db.query("PRAGMA user_version").first?[0].int == 2)
    }

    @Test("read-only: no schema statement, nothing written, writes refused; a missing ledger is not created")
    func readOnly() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.sqlite")
        do {
            let ledger = try Ledger(path: path)
            _ = try ledger.register(path: "/in/a", size: 1, mtime: 1, fingerprint: { "f" }, outputStem: "a")
            try ledger.checkpoint()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let ledger = try Ledger(path: path, readOnly: true)
        #expect(ledger.isReadOnly)
        #expect(try ledger.entries().map(\.path) == ["/in/a"])
        #expect(throws: WatchError.self) { try ledger.retry(path: "/in/a") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(throws: WatchError.self) { try Ledger(path: directory.file("missing.sqlite"), readOnly: true) }
        #expect(!FileManager.default.fileExists(atPath: directory.file("missing.sqlite")))
    }
}

@Suite("Output folder names")
struct OutputNameTests {
    @Test("long names: the aside name is short, a stem too long for `.incomplete` is cut with a hash, -2 still fits")
    func fitting() {
        #expect(OutputFolder.asideName(for: String(repeating: "é", count: 120)).utf8.count <= 50)
        let short = String(repeating: "a", count: 240)
        #expect(OutputFolder.stem(of: "/in/\(short).wav") == short)      // fits: kept whole
        let long = String(repeating: "é", count: 126)                     // 252 bytes
        let fitted = OutputFolder.stem(of: "/in/\(long)")
        #expect(fitted.utf8.count <= OutputFolder.folderNameMax && fitted.hasPrefix("éé"))
        #expect(fitted != OutputFolder.stem(of: "/in/\(long)x"))          // same beginning, other folder
        #expect(fitted == OutputFolder.stem(of: "/in/\(long)"))           // stable
        let second = OutputFolder.uniqueName(stem: short + "abcd", taken: [short + "abcd"])
        #expect(second.utf8.count <= OutputFolder.folderNameMax && second != short + "abcd")
        #expect(OutputFolder.fitted("day1/" + long).hasPrefix("day1/éé"))
    }
}

@Suite("Watch folder: honest results", .serialized)
struct WatchHonestyTests {
    @Test("recursive: links to folders (the root itself, a sub-folder) and to files are never followed, and said once")
    func symbolicLinks() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try FileManager.default.createDirectory(atPath: harness.input + "/sub", withIntermediateDirectories: true)
        try TinyMedia.writeWAV(to: harness.input + "/a.wav", seconds: 0.1)
        try TinyMedia.writeWAV(to: harness.input + "/sub/b.wav", seconds: 0.1)
        try TinyMedia.writeWAV(to: harness.directory.file("outside.wav"), seconds: 0.1)
        symlink(harness.input, harness.input + "/loop")
        symlink(harness.input + "/sub", harness.input + "/sub-link")
        symlink(harness.directory.file("outside.wav"), harness.input + "/linked.wav")
        var options = harness.options(settle: 0.05)
        options.recursive = true
        options.rescanInterval = 0.1
        try harness.start(options)
        let done = try harness.waitUntil { try harness.watcher.ledger.counts()[.done] == 2 }
        Thread.sleep(forTimeInterval: 0.6)        // several rescans
        harness.stop()
        #expect(done)
        #expect(try harness.watcher.ledger.entries().map(\.path).sorted() == [harness.path("a.wav"), harness.path("sub/b.wav")])
        #expect(harness.startCounts.values.allSatisfy { $0 == 1 })
        var skipped: [String: Int] = [:]
        for (_, event) in harness.events { if case .skipped(let path, _) = event { skipped[path, default: 0] += 1 } }
        #expect(skipped == [harness.path("loop"): 1, harness.path("sub-link"): 1, harness.path("linked.wav"): 1])
    }

    @Test("a name that is not UTF-8 is reported once, escaped, with the reason (found by scan or by event)")
    func undecodableNames() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        func create(_ bytes: [UInt8]) throws {
            let wav = TinyMedia.wavData(seconds: 0.1)
            let path = Array(harness.input.utf8) + [0x2f] + bytes + [0]
            let fd = path.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                                                         O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
            try #require(fd >= 0)
            _ = wav.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        try create(Array("caf".utf8) + [0xe9] + Array(".wav".utf8))        // Latin-1 "café.wav"
        try TinyMedia.writeWAV(to: harness.input + "/good.wav", seconds: 0.1)
        var options = harness.options(settle: 0.05)
        options.rescanInterval = 0.1
        try harness.start(options)
        try create([0xff, 0xfe] + Array(".wav".utf8))                      // arrives while watching
        let done = try harness.waitUntil { try harness.watcher.ledger.counts()[.done] == 1 }
        Thread.sleep(forTimeInterval: 0.6)
        harness.stop()
        #expect(done)
        let skipped = harness.events.compactMap { item -> (String, String)? in
            if case .skipped(let path, let reason) = item.event { return (path, reason) }
            return nil
        }
        #expect(skipped.map(\.0).sorted() == [harness.path("caf\\xe9.wav"), harness.path("\\xff\\xfe.wav")].sorted())
        #expect(skipped.allSatisfy { $0.1.contains("not valid UTF-8") })
        #expect(harness.events.contains { $0.event.line.contains("caf\\xe9.wav: skipped: its name is not valid UTF-8") })
    }

    @Test("a 240-byte stem is processed and then refreshed; a name too long for `.incomplete` gets a cut, hashed folder")
    func longNames() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        let stem = String(repeating: "s", count: 240)
        let longer = String(repeating: "l", count: 251)                     // 255 bytes with ".wav"
        for name in [stem, longer, longer.dropLast(1) + "m"] { try TinyMedia.writeWAV(to: harness.input + "/\(name).wav", seconds: 0.1) }
        try harness.runOnce(harness.options(settle: 0.05))
        #expect(try harness.watcher.ledger.counts() == [.done: 3])
        let outputs = try harness.watcher.ledger.entries().map(\.output)
        #expect(outputs.contains(stem) && Set(outputs).count == 3 && outputs.allSatisfy { $0.utf8.count <= OutputFolder.folderNameMax })

        for name in [stem, longer] { try TinyMedia.writeWAV(to: harness.input + "/\(name).wav", seconds: 0.4) }
        try harness.runOnce(harness.options(settle: 0.05))
        #expect(try harness.watcher.ledger.counts() == [.done: 3])
        for entry in try harness.watcher.ledger.entries() where !entry.path.hasSuffix("m.wav") {
            let summary = try FileSummary.read(from: "\(harness.output)/\(entry.output)/summary.json")
            #expect(abs((summary.mediaDuration ?? 0) - 0.4) < 0.01, "\(entry.output)")
            #expect(entry.attempts == 1)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.output)
            .filter { $0.hasPrefix(".") || $0.hasSuffix(".incomplete") }
        #expect(leftovers.isEmpty)
    }

    @Test("the ledger deleted (or replaced) under a running watcher stops it with a plain error")
    func ledgerDeleted() throws {
        for replace in [false, true] {
            let harness = WatchHarness()
            defer { harness.cleanup() }
            try TinyMedia.writeWAV(to: harness.input + "/a.wav", seconds: 0.1)
            try harness.start(harness.options(settle: 0.05))
            #expect(try harness.waitUntil { try harness.watcher.ledger.counts()[.done] == 1 })
            let path = harness.watcher.ledger.path
            if replace {
                try Data().write(to: URL(fileURLWithPath: harness.directory.file("other.sqlite")))
                rename(harness.directory.file("other.sqlite"), path)
            } else {
                unlink(path)
            }
            harness.wait(timeout: 5)
            let error = try #require(harness.runError as? WatchError)
            #expect(error.localizedDescription.contains(path))
            #expect(error.localizedDescription.contains(replace ? "replaced" : "deleted"))
            harness.token.cancel()
        }
    }

    @Test("a row left running whose folder was published is recorded from summary.json, not processed again")
    func adoptsPublished() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try TinyMedia.writeWAV(to: harness.input + "/a.wav", seconds: 0.1)
        let options = harness.options(settle: 0.05)
        try FileManager.default.createDirectory(atPath: harness.output, withIntermediateDirectories: true)
        let ledger = try Ledger(path: harness.output + "/kino-ledger.sqlite")
        let stat = try #require(FileSettler.stat(harness.path("a.wav")))
        _ = try ledger.register(path: harness.path("a.wav"), size: stat.size, mtime: stat.mtime,
                                fingerprint: { try Fingerprint.of(path: harness.path("a.wav")) }, outputStem: "a")
        let entry = try #require(try ledger.claim())
        // The run published, then the commit of its result failed (disk full) or the process died.
        let runner = ProcessRunner(options: ProcessOptions(pipeline: "levels", outputDirectory: harness.output, library: testLibrary))
        #expect(runner.process(harness.path("a.wav"), name: entry.output).status == .completed)
        try harness.runOnce(options)
        #expect(harness.startCounts.isEmpty)
        #expect(try harness.watcher.ledger.entry(path: harness.path("a.wav"))?.state == .done)
        #expect(harness.events.contains { $0.event.line.contains("recorded as done") })
    }

    @Test("an output folder that cannot be created: a plain message with the path and the cause")
    func plainErrors() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try Data().write(to: URL(fileURLWithPath: harness.directory.file("file")))
        var options = harness.options()
        options.outputDirectory = harness.directory.file("file/out")
        #expect {
            _ = try Watcher(options: options)
        } throws: { error in
            let text = error.localizedDescription
            return text.contains(harness.directory.file("file")) && text.contains("Not a directory") && !text.contains("Domain=")
        }
        // Foundation's wrapping of an errno (what FileHandle throws on Linux) comes out as the errno's text.
        let wrapped = CocoaError(.fileReadUnknown, userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EIO))])
        #expect(WatchError.cause(of: wrapped) == "Input/output error")
        options = harness.options()
        options.directory = harness.directory.file("nowhere")
        #expect(throws: WatchError.notADirectory(path: harness.directory.file("nowhere"))) { _ = try Watcher(options: options) }
    }
}

@Suite("Watch folder: outcomes and log lines")
struct WatchOutcomeTests {
    @Test("summaries map to ledger outcomes; damaged says what was wrong; the log says rejected, damaged, retried, quarantined")
    func outcomes() {
        var damaged = FileSummary(input: "/in/d.mp4", status: .damaged, output: "/out/d")
        damaged.damage = FileSummary.Damage(streams: [
            .init(stream: "video:0", decodeErrors: 3, corruptFrames: 1, reachedSeconds: 4, expectedSeconds: 6, firstErrors: ["bad slice"]),
        ])
        #expect(Watcher.outcome(of: damaged)
                == .damaged("video:0: 3 decode error(s), 1 corrupt frame(s), reached 4.00 of 6.00 s (first: bad slice)"))
        let rejected = FileSummary(input: "/in/r.txt", status: .rejected,
                                   error: .init(stage: "probe", seconds: nil, message: "not a media file"))
        #expect(Watcher.outcome(of: rejected) == .rejected("not a media file"))
        #expect(Watcher.outcome(of: FileSummary(input: "/in/c", status: .completed)) == .done)
        let failed = FileSummary(input: "/in/f", status: .failed, error: .init(stage: "decode", seconds: 1.5, message: "boom"))
        #expect(Watcher.outcome(of: failed) == .failed("stage 'decode' at 1.500 s: boom"))

        func entry(_ state: LedgerEntry.State, error: String? = nil) -> LedgerEntry {
            LedgerEntry(id: 1, path: "/in/x", size: 1, mtime: 1, fingerprint: "f", state: state, attempts: 2, lastError: error,
                        output: "x", retryAt: 14, updatedAt: 10)
        }
        #expect(WatchEvent.finished(entry(.rejected, error: "not a media file"), rejected).line
                == "/in/x: rejected: not a media file; recorded once, no output, not retried")
        #expect(WatchEvent.finished(entry(.damaged, error: "video:0: …"), damaged).line.hasSuffix("damaged (video:0: …): outputs kept, not retried"))
        #expect(WatchEvent.finished(entry(.quarantined), failed).line.contains("quarantined after 2 attempt(s)"))
        #expect(WatchEvent.finished(entry(.failed), failed).line.hasSuffix("attempt 2 failed, retried in 4.0 s"))
    }
}
