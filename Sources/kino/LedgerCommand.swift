import ArgumentParser
import Foundation
import KinoWatch

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inspect and edit a watch folder's ledger.",
        subcommands: [List.self, Show.self, Retry.self, Forget.self])

    struct Location: ParsableArguments {
        @Option(help: "Ledger database.") var ledger: String = "kino-out/kino-ledger.sqlite"
        @Flag(help: "Print JSON.") var json = false

        /// Opens the ledger; `readOnly` for commands that only look (they then work on a full
        /// disk or a read-only file system, and never write to the file).
        func open(readOnly: Bool = false) throws -> Ledger {
            guard FileManager.default.fileExists(atPath: ledger) else {
                throw WatchError.ledger(path: ledger, operation: "open", message: "no such file (give --ledger)")
            }
            return try Ledger(path: ledger, readOnly: readOnly)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every file with its state.")
        @OptionGroup var location: Location
        @Option(help: "Only files in this state: \(LedgerEntry.State.allCases.map(\.rawValue).joined(separator: ", ")).")
        var state: String?
        @Flag(help: "Print only the number of files in each state.") var summary = false

        func validate() throws {
            if let state, LedgerEntry.State(rawValue: state) == nil {
                throw ValidationError("unknown state '\(state)' (one of \(LedgerEntry.State.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }

        func run() throws {
            try reporting {
                let ledger = try location.open(readOnly: true)
                if summary {
                    let counts = try ledger.counts()
                    if location.json { return try printJSON(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })) }
                    return print(countsLine(counts))
                }
                let entries = try ledger.entries(state: state.flatMap(LedgerEntry.State.init(rawValue:)))
                if location.json { return try printJSON(entries) }
                for entry in entries {
                    let error = entry.lastError.map { "  \($0)" } ?? ""
                    print("\(entry.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(entry.attempts)  \(entry.path) → \(entry.output)\(error)")
                }
                if state == nil { print(countsLine(try ledger.counts())) }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show everything the ledger holds about one file.")
        @Argument(help: "The file's path.") var path: String
        @OptionGroup var location: Location

        func run() throws {
            try reporting {
                guard let entry = try location.open(readOnly: true).entry(path: absolute(path)) else { throw WatchError.unknownFile(path: path) }
                if location.json { return try printJSON(entry) }
                func time(_ t: Double?) -> String { t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-" }
                print("""
                    path         \(entry.path)
                    state        \(entry.state.rawValue)
                    attempts     \(entry.attempts)
                    last error   \(entry.lastError ?? "-")
                    output       \(entry.output)
                    size         \(entry.size) bytes
                    mtime        \(time(entry.mtime))
                    fingerprint  \(entry.fingerprint)
                    queued       \(time(entry.queuedAt))
                    started      \(time(entry.startedAt))
                    finished     \(time(entry.finishedAt))
                    retry after  \(time(entry.retryAt))
                    """)
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a file again with its attempts reset (a running watcher picks it up).")
        @Argument(help: "The file's path.") var path: String
        @OptionGroup var location: Location

        func run() throws {
            try reporting { try location.open().retry(path: absolute(path)); print("queued \(absolute(path))") }
        }
    }

    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a file's row; it is treated as new when next seen.")
        @Argument(help: "The file's path.") var path: String
        @OptionGroup var location: Location

        func run() throws {
            try reporting { try location.open().forget(path: absolute(path)); print("forgot \(absolute(path))") }
        }
    }
}

/// The ledger keys rows by canonical absolute path; accept what the user typed.
private func absolute(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// `3 file(s): queued 0, running 0, done 2, …` over every state.
func countsLine(_ counts: [LedgerEntry.State: Int]) -> String {
    "\(counts.values.reduce(0, +)) file(s): "
        + LedgerEntry.State.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", ")
}

private func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Runs `body`, printing its error as `kino: error: …` and exiting 1.
private func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ValidationError {
        throw error
    } catch {
        printError(error)
        throw ExitCode(1)
    }
}
