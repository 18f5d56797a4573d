import Foundation
import Glibc
import KinoTestSupport
import KinoWatch
import Testing

/// Runs the built `kino` with file writes limited to `blocks` × 512 bytes (`ulimit -f`, with
/// SIGXFSZ ignored so a write past the limit fails with EFBIG, as writes fail on a full disk)
/// — a full disk without mounting one. Gives up after `timeout` seconds (`timedOut`).
private func kinoLimited(_ blocks: Int?, _ arguments: [String], timeout: Double = 60) throws
    -> (status: Int32, errors: String, output: String, timedOut: Bool) {
    let binary = try #require(KinoBinary.path, "build the kino product first (swift build)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    let limit = blocks.map { "ulimit -f \($0); " } ?? ""
    process.arguments = ["-c", "trap '' XFSZ; \(limit)exec \"$0\" \"$@\"", binary] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    final class Box: @unchecked Sendable { var data = Data() }
    let errors = Box(), output = Box()
    let readers = DispatchGroup()
    DispatchQueue.global().async(group: readers) { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: readers) { output.data = out.fileHandleForReading.readDataToEndOfFile() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    let timedOut = process.isRunning
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    readers.wait()
    return (process.terminationStatus, String(decoding: errors.data, as: UTF8.self),
            String(decoding: output.data, as: UTF8.self), timedOut)
}

@Suite("Watch folder: a full disk (binary)", .serialized)
struct WatchDiskFullTests {
    @Test("the ledger's writes fail: the watcher stops with a plain error, no hang; a restart finishes, publishing nothing twice")
    func ledgerWritesFail() throws {
        var stopped = 0
        for blocks in [64, 96, 128, 160, 224] {
            let harness = WatchHarness()
            defer { harness.cleanup() }
            let files = (0..<6).map { "f\($0).wav" }
            for name in files { try TinyMedia.writeWAV(to: harness.input + "/\(name)", seconds: 0.1) }
            let out = harness.directory.file("out")
            let arguments = ["watch", harness.input, "-o", out, "--pipeline", "levels", "--settle", "0.05", "--once"]
            let first = try kinoLimited(blocks, arguments, timeout: 30)
            #expect(!first.timedOut, "hung with a \(blocks)-block limit")
            if first.status != 0 {
                stopped += 1
                #expect(first.status == 1)
                #expect(first.errors.contains("kino: error: ledger '\(out)/kino-ledger.sqlite'"), "\(first.errors)")
                #expect(first.errors.contains("disk I/O error") || first.errors.contains("disk is full"))
                #expect(!first.errors.contains("Domain="))
            }
            // What the first run published under a final name must not be processed again.
            let published = try FileManager.default.contentsOfDirectory(atPath: out)
                .filter { !$0.hasPrefix(".") && !$0.hasPrefix("kino-ledger") && !$0.hasSuffix(".incomplete") }
            let second = try kinoLimited(nil, arguments, timeout: 60)
            #expect(second.status == 0 && !second.timedOut, "\(second.errors)")
            let restarted = second.errors.split(separator: "\n").filter { $0.contains(": started (") }
            for name in published {
                #expect(!restarted.contains { $0.contains("/\(name).wav: started") }, "\(name) processed again (limit \(blocks))")
            }
            let ledger = try Ledger(path: out + "/kino-ledger.sqlite", readOnly: true)
            #expect(try ledger.counts() == [.done: files.count], "limit \(blocks)")
        }
        #expect(stopped >= 3)   // the limits do reach the ledger's commits
    }

    @Test("`kino ledger list` and `show` work when nothing can be written; `retry` says why it cannot")
    func readOnlyCommands() throws {
        let harness = WatchHarness()
        defer { harness.cleanup() }
        try TinyMedia.writeWAV(to: harness.input + "/a.wav", seconds: 0.1)
        try TinyMedia.writeCorrupt(to: harness.input + "/b.wav")
        try harness.runOnce(harness.options(settle: 0.05))
        let ledger = ["--ledger", harness.output + "/kino-ledger.sqlite"]
        for resting in [false, true] {
            if resting {   // a ledger at rest after a clean close: no -wal, no -shm
                unlink(harness.output + "/kino-ledger.sqlite-wal")
                unlink(harness.output + "/kino-ledger.sqlite-shm")
            }
            let list = try kinoLimited(0, ["ledger", "list"] + ledger)
            #expect(list.status == 0, "\(list.errors)")
            #expect(list.output.contains("done ") && list.output.contains("rejected ") && list.output.contains("2 file(s)"))
            let show = try kinoLimited(0, ["ledger", "show", harness.input + "/b.wav"] + ledger)
            #expect(show.status == 0 && show.output.contains("rejected"), "\(show.errors)")
        }
        let retry = try kinoLimited(0, ["ledger", "retry", harness.input + "/b.wav"] + ledger)
        #expect(retry.status == 1 && retry.errors.contains("kino: error: ledger") && !retry.errors.contains("Domain="), "\(retry.errors)")
    }
}
