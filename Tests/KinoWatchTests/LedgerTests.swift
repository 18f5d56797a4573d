import Foundation
import KinoTestSupport
import KinoWatch
import Testing

@Suite("Ledger")
struct LedgerTests {
    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256() {
        func hex(_ text: String) -> String {
            var hasher = SHA256()
            hasher.update(Data(text.utf8))
            return hasher.finish().map { String(format: "%02x", $0) }.joined()
        }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("fingerprint: equal content, equal print; a change at either end or in size changes it, the middle does not")
    func fingerprint() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var bytes = Data(repeating: 7, count: 3 << 20)
        bytes[0] = 1
        try bytes.write(to: URL(fileURLWithPath: directory.file("a")))
        try bytes.write(to: URL(fileURLWithPath: directory.file("b")))
        let a = try Fingerprint.of(path: directory.file("a"))
        #expect(a == (try Fingerprint.of(path: directory.file("b"))))
        bytes[bytes.count / 2] ^= 1      // the middle MiB is not sampled: the documented blind spot
        try bytes.write(to: URL(fileURLWithPath: directory.file("b")))
        #expect(a == (try Fingerprint.of(path: directory.file("b"))))
        bytes[bytes.count - 10] ^= 1
        try bytes.write(to: URL(fileURLWithPath: directory.file("b")))
        #expect(a != (try Fingerprint.of(path: directory.file("b"))))
        try bytes.prefix(100).write(to: URL(fileURLWithPath: directory.file("c")))   // shorter than one sample
        #expect(try Fingerprint.of(path: directory.file("c")).count == 64)
        #expect(a != (try Fingerprint.of(path: directory.file("c"))))
        #expect(throws: WatchError.self) { try Fingerprint.of(path: directory.file("missing")) }
    }

    @Test("states: queued → running → failed → quarantined; crash recovery; retry and forget")
    func transitions() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let ledger = try Ledger(path: directory.file("ledger.sqlite"))
        #expect(try ledger.register(path: "/in/a.wav", size: 10, mtime: 1, fingerprint: { "f1" }, outputStem: "a") == .added)
        #expect(try ledger.register(path: "/in/sub/a.wav", size: 10, mtime: 1, fingerprint: { "f9" }, outputStem: "a") == .added)
        #expect(try ledger.entry(path: "/in/sub/a.wav")?.output == "a-2")
        #expect(try ledger.register(path: "/in/a.wav", size: 10, mtime: 1, fingerprint: { Issue.record("hashed again"); return "" },
                                    outputStem: "a") == .unchanged)
        #expect(try ledger.register(path: "/in/a.wav", size: 10, mtime: 2, fingerprint: { "f1" }, outputStem: "a") == .touched)

        var entry = try #require(try ledger.claim())
        #expect(entry.path == "/in/a.wav" && entry.state == .running && entry.attempts == 1)
        try ledger.finish(entry, error: "boom", maxAttempts: 2, retryDelay: 0)
        #expect(try ledger.entry(path: "/in/a.wav")?.state == .failed)
        _ = try #require(try ledger.claim())             // the other file
        entry = try #require(try ledger.claim())          // the failed one, retry due at once
        #expect(entry.path == "/in/a.wav" && entry.attempts == 2)
        try ledger.finish(entry, error: "boom again", maxAttempts: 2, retryDelay: 0)
        let quarantined = try #require(try ledger.entry(path: "/in/a.wav"))
        #expect(quarantined.state == .quarantined && quarantined.lastError == "boom again")

        // The other file was left running: a new process recovers it.
        #expect(try Ledger(path: directory.file("ledger.sqlite")).recoverInterrupted(maxAttempts: 3) == 1)
        #expect(try ledger.entry(path: "/in/sub/a.wav")?.state == .queued)

        try ledger.retry(path: "/in/a.wav")
        #expect(try ledger.entry(path: "/in/a.wav").map { ($0.state, $0.attempts) } ?? (.done, -1) == (.queued, 0))
        try ledger.forget(path: "/in/a.wav")
        #expect(try ledger.entry(path: "/in/a.wav") == nil)
        #expect(throws: WatchError.unknownFile(path: "/in/a.wav")) { try ledger.forget(path: "/in/a.wav") }
        #expect(try ledger.counts() == [.queued: 1])
    }

    @Test("new content while running: the stale run's result is dropped and the file queued again")
    func changedWhileRunning() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let ledger = try Ledger(path: directory.file("ledger.sqlite"))
        _ = try ledger.register(path: "/in/a.wav", size: 10, mtime: 1, fingerprint: { "f1" }, outputStem: "a")
        let entry = try #require(try ledger.claim())
        #expect(try ledger.register(path: "/in/a.wav", size: 20, mtime: 3, fingerprint: { "f2" }, outputStem: "a") == .changed)
        try ledger.finish(entry, error: nil, maxAttempts: 3, retryDelay: 0)
        let row = try #require(try ledger.entry(path: "/in/a.wav"))
        #expect(row.state == .queued && row.fingerprint == "f2" && row.attempts == 0)
    }
}
