import Foundation
import KinoGraph
import KinoWatch

// watch-bench [--files N] [--jobs J] [--pipeline NAME]
// Drops N tiny WAV files (10 ms, 8 kHz mono, 204 bytes) into a folder and runs a `once` watcher
// over it with the `levels` pipeline (a real libsndfile decode → measure → JSONL): time until
// every file is registered in the ledger, time until every file is done, ledger size; then a
// restart over the same folder, which must find nothing to do. Prints a markdown table.

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let fileCount = Int(option("--files", "10000")) ?? 10000
let jobs = Int(option("--jobs", "2")) ?? 2
let pipeline = option("--pipeline", "levels")

let work = NSTemporaryDirectory() + "kino-watch-bench-\(getpid())"
let input = work + "/in"
let output = work + "/out"
try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

/// 80 samples of a 440 Hz tone as a 16-bit mono WAV.
func wav() -> Data {
    let count = 80
    var data = Data()
    func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    func put16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    data.append(contentsOf: Array("RIFF".utf8)); put32(UInt32(36 + count * 2))
    data.append(contentsOf: Array("WAVEfmt ".utf8)); put32(16)
    put16(1); put16(1); put32(8000); put32(16000); put16(2); put16(16)
    data.append(contentsOf: Array("data".utf8)); put32(UInt32(count * 2))
    for i in 0..<count { put16(UInt16(bitPattern: Int16(sin(2 * Double.pi * 440 * Double(i) / 8000) * 12000))) }
    return data
}

let payload = wav()
for i in 0..<fileCount {
    try payload.write(to: URL(fileURLWithPath: String(format: "%@/f%05d.wav", input, i)))
}

/// Counts what a watcher reports, with the time of the last registration.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var registered = 0
    private(set) var finished = 0
    private(set) var failed = 0
    private(set) var lastRegistered = 0.0
    private(set) var processWall = 0.0
    let start = Date()

    func record(_ event: WatchEvent) {
        lock.withLock {
            switch event {
            case .registered:
                registered += 1
                lastRegistered = Date().timeIntervalSince(start)
            case .finished(_, let summary):
                finished += 1
                processWall += summary.wallSeconds
                if summary.status != .completed { failed += 1 }
            default:
                break
            }
        }
    }
}

func watch() throws -> (Tally, Double, Ledger) {
    let options = WatchOptions(directory: input, outputDirectory: output, pipeline: pipeline, jobs: jobs, settle: 0,
                               once: true, rescanInterval: 3600)
    let watcher = try Watcher(options: options)
    let tally = Tally()
    try watcher.run { tally.record($0) }
    return (tally, Date().timeIntervalSince(tally.start), watcher.ledger)
}

let (first, total, ledger) = try watch()
let counts = try ledger.counts()
guard counts[.done] == fileCount, first.failed == 0 else {
    print("watch-bench: expected \(fileCount) done, got \(counts) (\(first.failed) failed)")
    exit(1)
}
let ledgerBytes = ledger.fileSize
let (second, restart, _) = try watch()

let cores = ProcessInfo.processInfo.activeProcessorCount
print("| files | jobs | cores | registered (s) | all done (s) | files/s | mean run per file (ms) | ledger (bytes) | bytes/row | restart, nothing to do (s) | redone on restart |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print(String(format: "| %d | %d | %d | %.2f | %.2f | %.0f | %.2f | %d | %.0f | %.2f | %d |",
             fileCount, jobs, cores, first.lastRegistered, total, Double(fileCount) / total,
             first.processWall / Double(fileCount) * 1000, ledgerBytes, Double(ledgerBytes) / Double(fileCount),
             restart, second.finished))
