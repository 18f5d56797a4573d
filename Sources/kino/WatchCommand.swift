import ArgumentParser
import Foundation
import KinoGraph
import KinoWatch

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Process every media file that arrives in a directory, once, with a persistent ledger.",
        discussion: """
            A file is taken when nobody has it open for writing and its size and mtime have not \
            changed for --settle seconds; names ending in .part, .tmp, .partial, .crdownload or ~, \
            and dotfiles, wait until renamed. Each file is recorded in an SQLite ledger (default \
            OUTDIR/kino-ledger.sqlite): done files are not redone unless their content changes, a \
            file failing --attempts times is quarantined; a file that is not media is recorded once \
            as rejected, a damaged one (decoding errors) as damaged with its outputs kept, neither \
            retried. Symbolic links are not followed. Outputs go to OUTDIR/<stem>/ as with \
            `kino process`. SIGINT/SIGTERM re-queue the files in flight and exit with status 0; a ledger that cannot \
            be written (a full disk) or that is deleted stops the watcher with status 1.
            """)

    @Argument(help: "The directory to watch.") var directory: String
    @Option(help: "Pipeline name or path (default: chosen by each file's streams).") var pipeline: String?
    @Option(name: .shortAndLong, help: "Output folder.") var output: String = "kino-out"
    @Option(help: "Ledger database (default: OUTDIR/kino-ledger.sqlite).") var ledger: String?
    @Option(help: "Files processed at once.") var jobs: Int = 1
    @Option(help: "Seconds a file must stay unchanged, with no writer, before it is taken.") var settle: Double = 2
    @Flag(help: "Watch sub-directories too.") var recursive = false
    @Option(help: "Comma-separated shell patterns for file names to take, e.g. '*.mp4,*.wav'.") var include: String?
    @Flag(help: "Process what is there, wait for it to finish, and exit.") var once = false
    @Option(help: "Failed runs before a file is quarantined.") var attempts: Int = 3
    @Option(help: "Seconds before a failed file is retried (times its attempt count).") var retryDelay: Double = 2
    @Option(help: "Seconds between full rescans of the directory.") var rescan: Double = 60
    @Option(help: "Give up on a file after this many seconds (counts as a failed attempt).") var timeout: Double?
    @Option(help: "Seconds past --timeout after which a run that does not stop is abandoned and its worker moves on.")
    var abandonAfter: Double = 10

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard settle >= 0 else { throw ValidationError("--settle must not be negative") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        guard rescan > 0 else { throw ValidationError("--rescan must be positive") }
    }

    func run() throws {
        let library = PipelineLibrary.standard()
        if let pipeline {
            do {
                _ = try library.resolve(pipeline).spec.makeGraph(context: BuildContext(inputPath: "input"))
            } catch {
                printError(error)
                throw ExitCode(2)
            }
        }
        let patterns = include.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        var options = WatchOptions(directory: directory, outputDirectory: output, ledgerPath: ledger, pipeline: pipeline,
                                   jobs: jobs, settle: settle, recursive: recursive, include: patterns, once: once,
                                   maxAttempts: attempts, retryDelay: retryDelay, rescanInterval: rescan,
                                   timeout: timeout, library: library)
        options.abandonAfter = abandonAfter
        let trap = SignalTrap()
        do {
            let watcher = try Watcher(options: options)
            log("watching \(watcher.root) → \(watcher.options.outputDirectory) (ledger \(watcher.ledger.path), \(jobs) job(s))")
            try watcher.run(cancel: trap.token) { event in log(event.line) }
            log("stopped: " + countsLine(try watcher.ledger.counts()))
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}

/// A timestamped log line on standard error.
func log(_ text: String) {
    let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime])
    // `write(contentsOf:)` throws where `write(_:)` would trap: a log on a full disk must not
    // crash the watcher.
    try? FileHandle.standardError.write(contentsOf: Data("\(stamp) \(text)\n".utf8))
}
