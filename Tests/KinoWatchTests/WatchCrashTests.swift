import Foundation
import KinoGraph
import KinoTestSupport
import KinoWatch
import Testing

/// Decodes audio in tiny chunks so each file takes long enough to be caught mid-run.
private let slowPipeline = """
    name: slow-levels
    description: levels of 32-sample chunks
    stages:
      - {id: audio, kind: decode, options: {stream: audio, chunk: 32}}
      - {id: levels, kind: measure, inputs: [audio]}
      - {id: out, kind: jsonl, inputs: [levels], options: {path: levels.jsonl}}
    """

@Suite("Watch folder (binary)")
struct WatchCrashTests {
    @Test("kill -9 mid-run, then restart: every file done once, complete outputs, nothing partial")
    func killAndRestart() throws {
        let binary = try #require(KinoBinary.path, "build the kino product first (swift build)")
        let harness = WatchHarness()
        defer { harness.cleanup() }
        let pipeline = harness.directory.file("slow.yaml")
        try slowPipeline.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let files = (0..<24).map { "t\($0).wav" }
        for name in files { try TinyMedia.writeWAV(to: harness.input + "/\(name)", seconds: 4) }   // 1000 chunks each
        let out = harness.directory.file("out")
        let ledgerPath = out + "/kino-ledger.sqlite"
        let arguments = ["watch", harness.input, "-o", out, "--pipeline", pipeline, "--jobs", "2", "--settle", "0.1", "--once"]

        let first = try launch(binary, arguments)
        var doneBefore: [String: Date] = [:]
        var runningAtKill: [String] = []
        var killedAt = Date.distantFuture
        let caught = try harness.waitUntil(timeout: 60) {
            guard FileManager.default.fileExists(atPath: ledgerPath) else { return false }
            let entries = try Ledger(path: ledgerPath).entries()
            let done = entries.filter { $0.state == .done }
            runningAtKill = entries.filter { $0.state == .running }.map(\.path)
            guard done.count >= 3, !runningAtKill.isEmpty else { return false }
            kill(first.processIdentifier, SIGKILL)
            killedAt = Date()
            for entry in done {
                doneBefore[entry.path] = try FileSummary.read(from: "\(out)/\(entry.output)/summary.json").startedAt
            }
            return true
        }
        first.waitUntilExit()
        try #require(caught, "never saw three files done and one running")
        #expect(first.terminationReason == .uncaughtSignal)
        // What was running when the process actually died: a file seen running just before the
        // kill may have finished in between (then it is done, once, and not retried).
        runningAtKill = try Ledger(path: ledgerPath).entries().filter { $0.state == .running }.map(\.path)

        let second = try launch(binary, arguments)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)

        let ledger = try Ledger(path: ledgerPath)
        let entries = try ledger.entries()
        #expect(entries.count == files.count && entries.allSatisfy { $0.state == .done })
        for entry in entries {
            let summary = try FileSummary.read(from: "\(out)/\(entry.output)/summary.json")
            #expect(summary.status == .completed)
            let lines = try String(contentsOfFile: "\(out)/\(entry.output)/levels.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 1000)
            if let started = doneBefore[entry.path] {
                #expect(summary.startedAt == started, "\(entry.path) was done before the kill and ran again")
                #expect(entry.attempts == 1)
            }
            // Run again, unless its folder was published just before the kill: then the restart
            // records it from that summary.json instead.
            if runningAtKill.contains(entry.path) { #expect(entry.attempts == 2 || summary.finishedAt <= killedAt) }
        }
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: out)
            .filter { $0.hasSuffix(".incomplete") || $0.contains(".partial") || $0.contains("replaced-") }
        #expect(leftovers.isEmpty, "partial output left: \(leftovers)")
    }

    @Test("SIGTERM: the watcher re-queues what is in flight and exits 0")
    func terminate() throws {
        let binary = try #require(KinoBinary.path, "build the kino product first (swift build)")
        let harness = WatchHarness()
        defer { harness.cleanup() }
        let pipeline = harness.directory.file("slow.yaml")
        try slowPipeline.write(toFile: pipeline, atomically: true, encoding: .utf8)
        for i in 0..<4 { try TinyMedia.writeWAV(to: harness.input + "/t\(i).wav", seconds: 30) }
        let out = harness.directory.file("out")
        let process = try launch(binary, ["watch", harness.input, "-o", out, "--pipeline", pipeline, "--jobs", "2", "--settle", "0.1"])
        let ledgerPath = out + "/kino-ledger.sqlite"
        let running = try harness.waitUntil(timeout: 30) {
            guard FileManager.default.fileExists(atPath: ledgerPath) else { return false }
            return (try Ledger(path: ledgerPath).counts()[.running] ?? 0) > 0
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(running)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let counts = try Ledger(path: ledgerPath).counts()
        #expect(counts[.running] == nil && (counts[.queued] ?? 0) > 0)
    }

    @Test("kino ledger list, show, retry and forget on a watcher's ledger")
    func ledgerCommands() throws {
        let binary = try #require(KinoBinary.path, "build the kino product first (swift build)")
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try TinyMedia.writeWAV(to: harness.input + "/ok.wav", seconds: 0.1)
        try TinyMedia.writeCorrupt(to: harness.input + "/bad.wav")
        try FileManager.default.copyItem(atPath: "\(Repository.root)/samples/still.png", toPath: harness.input + "/still.png")
        try harness.runOnce(harness.options(maxAttempts: 1))
        let ledger = ["--ledger", harness.output + "/kino-ledger.sqlite"]
        func kino(_ arguments: [String]) throws -> (Int32, String) {
            let process = try launch(binary, arguments + ledger, capture: true)
            let text = String(decoding: (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let (listed, list) = try kino(["ledger", "list", "--json"])
        #expect(listed == 0)
        let entries = try JSONDecoder().decode([LedgerEntry].self, from: Data(list.utf8))
        #expect(Dictionary(uniqueKeysWithValues: entries.map { ($0.output, $0.state) })
                == ["ok": .done, "bad": .rejected, "still": .quarantined])
        let (shown, show) = try kino(["ledger", "show", harness.input + "/bad.wav"])
        #expect(shown == 0 && show.contains("rejected") && show.contains("not a media file"))
        let (filtered, rejected) = try kino(["ledger", "list", "--state", "rejected"])
        #expect(filtered == 0 && rejected.contains("bad.wav") && !rejected.contains("ok.wav"))
        let (summarised, summary) = try kino(["ledger", "list", "--summary"])
        #expect(summarised == 0 && summary.contains("rejected 1") && summary.contains("quarantined 1") && summary.contains("done 1"))
        #expect(try kino(["ledger", "retry", harness.input + "/bad.wav"]).0 == 0)
        #expect(try Ledger(path: harness.output + "/kino-ledger.sqlite").entry(path: harness.path("bad.wav"))?.state == .queued)
        #expect(try kino(["ledger", "forget", harness.input + "/ok.wav"]).0 == 0)
        #expect(try kino(["ledger", "forget", harness.input + "/ok.wav"]).0 == 1)
    }

    private func launch(_ binary: String, _ arguments: [String], capture: Bool = false) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = capture ? Pipe() : FileHandle.nullDevice
        try process.run()
        return process
    }
}
