import ArgumentParser
import Foundation
import KinoGraph

struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Run a pipeline on media files, each into OUTDIR/<file stem>/ with a summary.json.",
        discussion: """
            Without --pipeline, each file gets the bundled pipeline that suits its streams: overview \
            (video and audio), overview-video or overview-audio. Outputs are written into \
            OUTDIR/<stem>.incomplete/ and renamed to OUTDIR/<stem>/ only when the run completes; a \
            failed or interrupted file keeps the .incomplete folder, with a summary.json saying why. A \
            damaged file (decode errors, concealed frames, or cut short before its declared duration) \
            is processed as far as it reads, published, and reported as `damaged` with the counts. A \
            file that is not media (or is missing) gets no folder at all. Exit status: 0 when every \
            file completed, 1 when any failed or was not media, 3 when none failed but some were \
            damaged (0 with --accept-damaged), 130 after SIGINT, 143 after SIGTERM.
            """)

    @Argument(help: "Media files to process.") var files: [String]
    @Option(help: "Pipeline name (see `kino pipelines`) or path to a pipeline file.") var pipeline: String?
    @Option(name: .shortAndLong, help: "Output folder.") var output: String = "kino-out"
    @Option(help: "Files processed at once.") var jobs: Int = 1
    @Option(help: "Give up on a file after this many seconds (counts as a failure).") var timeout: Double?
    @Option(help: "Seconds past --timeout after which a run that does not stop is abandoned.") var abandonAfter: Double = 10
    @Flag(help: "Print each file's summary.json to standard output when it ends.") var stats = false
    @Flag(help: "Count damaged files (decode errors, cut short) as success in the exit status.") var acceptDamaged = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        let library = PipelineLibrary.standard()
        if let pipeline {
            do {
                _ = try library.resolve(pipeline).spec.makeGraph(context: BuildContext(inputPath: files.first))
            } catch {
                printError(error)
                throw ExitCode(2)
            }
        }
        let trap = SignalTrap()
        let display = ProgressDisplay(total: files.count)
        var options = ProcessOptions(pipeline: pipeline, outputDirectory: output, jobs: jobs, library: library, timeout: timeout)
        options.abandonAfter = abandonAfter
        let runner = ProcessRunner(options: options)
        let printStats = stats
        let summaries = runner.run(files, cancel: trap.token) { event in
            display.handle(event)
            if printStats, case .finished(_, let summary) = event, let data = try? summary.jsonData() {
                print(String(decoding: data, as: UTF8.self))
            }
        }
        display.end()
        let failed = summaries.filter { $0.status == .failed || $0.status == .rejected }
        let damaged = summaries.filter { $0.status == .damaged }
        if !failed.isEmpty {
            writeStandardError("kino: \(failed.count) of \(summaries.count) file(s) failed:\n")
            for summary in failed { writeStandardError("  \(summary.line)\n") }
        }
        if !damaged.isEmpty {
            let verdict = acceptDamaged ? "accepted (--accept-damaged)" : "exit status 3"
            writeStandardError("kino: \(damaged.count) of \(summaries.count) file(s) damaged, processed as far as they read; \(verdict):\n")
            for summary in damaged { writeStandardError("  \(summary.line)\n") }
        }
        if let status = trap.exitStatus { throw ExitCode(status) }
        if !failed.isEmpty || summaries.contains(where: { $0.status == .cancelled }) { throw ExitCode(1) }
        if !damaged.isEmpty && !acceptDamaged { throw ExitCode(3) }
    }
}
