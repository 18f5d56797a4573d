import Foundation
import KinoMedia
import KinoFiles

/// Settings of ``ProcessRunner``; the CLI fills them from `kino process` options.
public struct ProcessOptions: Sendable {
    /// A pipeline name or path; `nil` picks one per file by its streams
    /// (``PipelineLibrary/automaticName(hasVideo:hasAudio:)``).
    public var pipeline: String?
    /// Where each file's output folder is created.
    public var outputDirectory: String
    /// Files processed at once by ``ProcessRunner/run(_:cancel:events:)``.
    public var jobs: Int
    /// Where pipeline names are looked up.
    public var library: PipelineLibrary
    public var registry: StageRegistry
    /// Seconds after which a file's run is cancelled and counted as failed; `nil` for none.
    public var timeout: Double?
    /// Seconds between ``ProcessEvent/progress(_:)`` events of a running file.
    public var progressInterval: Double
    /// Heavy stages computing at once, across all files being processed.
    public var computeSlots: Int
    /// Seconds past ``timeout`` after which a run that has not stopped (a source blocked in a C
    /// call never sees its cancel token) is abandoned: reported failed, its thread left behind.
    public var abandonAfter: Double = 10

    public init(pipeline: String? = nil, outputDirectory: String, jobs: Int = 1,
                library: PipelineLibrary = .standard(), registry: StageRegistry = .builtIn,
                timeout: Double? = nil, progressInterval: Double = 0.25,
                computeSlots: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.pipeline = pipeline
        self.outputDirectory = outputDirectory
        self.jobs = max(1, jobs)
        self.library = library
        self.registry = registry
        self.timeout = timeout
        self.progressInterval = progressInterval
        self.computeSlots = computeSlots
    }
}

/// Runs a pipeline over files, each into its own atomically published output folder.
///
/// The library side of `kino process` (and of each job of `kino watch`): probe the file, pick
/// or load the pipeline, build a fresh graph writing into `OUTDIR/<name>.incomplete/`, run it,
/// write `summary.json`, and rename the folder to `OUTDIR/<name>/` only when the run completed
/// (see ``OutputFolder``). A failing file never stops the others.
///
/// ```swift
/// let runner = ProcessRunner(options: ProcessOptions(outputDirectory: "out", jobs: 2))
/// let summaries = runner.run(["a.mp4", "b.wav"]) { event in print(event) }
/// let ok = summaries.allSatisfy { $0.status == .completed }
/// ```
public final class ProcessRunner: Sendable {
    public let options: ProcessOptions
    /// Shared by all files so that `jobs` parallel runs do not oversubscribe the cores.
    let pool: ComputePool

    public init(options: ProcessOptions) {
        self.options = options
        self.pool = ComputePool(slots: options.computeSlots)
    }

    /// Processes `inputs`, `options.jobs` at a time, and returns one summary per input in order.
    ///
    /// Cancelling `cancel` stops the files in progress (their folders stay `.incomplete`) and
    /// starts no more; files never started are returned as cancelled with no output folder.
    /// - Parameters:
    ///   - inputs: media file paths; files sharing a stem get distinct folders.
    ///   - cancel: stops everything when cancelled (from a signal handler, say).
    ///   - events: called from worker threads as files start, progress and finish.
    public func run(_ inputs: [String], cancel: CancelToken = CancelToken(),
                    events: @escaping @Sendable (ProcessEvent) -> Void = { _ in }) -> [FileSummary] {
        let names = OutputFolder.uniqueNames(for: inputs)
        let results = Locked<[FileSummary?]>(Array(repeating: nil, count: inputs.count))
        let next = Locked(0)
        let active = Locked<[Int: CancelToken]>([:])
        cancel.onCancel { active.current.values.forEach { $0.cancel() } }

        let group = DispatchGroup()
        for worker in 0..<min(options.jobs, max(1, inputs.count)) {
            DispatchQueue(label: "kino.process.\(worker)").async(group: group) {
                while !cancel.isCancelled {
                    let index = next.withLock { n -> Int in defer { n += 1 }; return n }
                    guard index < inputs.count else { return }
                    let token = CancelToken()
                    active.withLock { $0[index] = token }
                    if cancel.isCancelled { token.cancel() }
                    let summary = self.process(inputs[index], name: names[index], index: index,
                                               cancel: token, events: events)
                    active.withLock { $0[index] = nil }
                    results.withLock { $0[index] = summary }
                }
            }
        }
        group.wait()
        return results.current.enumerated().map { index, summary in
            summary ?? FileSummary(input: inputs[index], status: .cancelled)
        }
    }

    /// Processes one file into `OUTDIR/<name>`; never throws — every failure is in the summary.
    ///
    /// - Parameters:
    ///   - input: the media file.
    ///   - name: the output folder name under ``ProcessOptions/outputDirectory``.
    ///   - index: the position reported in events.
    ///   - cancel: stops this file's run.
    ///   - events: progress and the final summary.
    /// - Returns: the summary, also written to `summary.json` in the output folder.
    public func process(_ input: String, name: String, index: Int = 0, cancel: CancelToken = CancelToken(),
                        events: @escaping @Sendable (ProcessEvent) -> Void = { _ in }) -> FileSummary {
        guard options.timeout != nil else {
            return execute(input, name: name, index: index, cancel: cancel, events: events, ownership: nil)
        }
        return executeWithDeadline(input, name: name, index: index, cancel: cancel, events: events)
    }

    /// The work of ``process(_:name:index:cancel:events:)``; `ownership`, when given, decides
    /// whether this run or an abandoning caller reports the file.
    func execute(_ input: String, name: String, index: Int, cancel: CancelToken,
                 events: @escaping @Sendable (ProcessEvent) -> Void, ownership: RunOwnership?) -> FileSummary {
        let started = Date()
        let folder = OutputFolder(root: options.outputDirectory, name: name)
        var summary = FileSummary(input: input, status: .failed, output: nil,
                                  startedAt: started, finishedAt: started)
        func fail(_ stage: String, _ error: any Error) {
            summary.error = FileSummary.Failure(stage: stage, seconds: nil, message: describe(error))
        }

        // The input is probed before any folder exists: a typo, a directory or a file that is
        // not media leaves nothing behind (the summary still reaches events and the ledger).
        let entry: PipelineLibrary.Entry
        do {
            let info = try MediaProbe.probe(input, scanPackets: false)
            if let problem = info.headerProblem {
                throw MediaError(.corrupt, operation: "probing", path: input, message: problem)
            }
            summary.mediaDuration = info.duration > 0 ? info.duration : nil
            guard let choice = try options.pipeline ?? PipelineLibrary.automaticName(
                hasVideo: info.video != nil, hasAudio: info.audio != nil) else {
                summary.status = .rejected
                summary.error = FileSummary.Failure(stage: "probe", seconds: nil,
                                                    message: "\(input): the file has neither a video nor an audio stream")
                return finish(summary, folder: folder, index: index, events: events, ownership: ownership, writeSummary: false)
            }
            entry = try options.library.resolve(choice)
        } catch let error as MediaError {
            if error.kind == .notMedia { summary.status = .rejected }
            fail("probe", error)
            return finish(summary, folder: folder, index: index, events: events, ownership: ownership, writeSummary: false)
        } catch {
            fail("pipeline", error)
            return finish(summary, folder: folder, index: index, events: events, ownership: ownership, writeSummary: false)
        }
        do {
            try folder.prepare()
        } catch {
            fail("output", error)
            return finish(summary, folder: folder, index: index, events: events, ownership: ownership, writeSummary: false)
        }
        summary.output = folder.workPath
        summary.pipeline = entry.spec.name
        summary.pipelinePath = entry.path
        events(.started(index: index, input: input, duration: summary.mediaDuration))

        let graph: Graph
        do {
            graph = try entry.spec.makeGraph(registry: options.registry,
                                             context: BuildContext(inputPath: input, outputDirectory: folder.workPath))
        } catch {
            fail("pipeline", error)
            return finish(summary, folder: folder, index: index, events: events, ownership: ownership)
        }

        let timedOut = Locked(false)
        if let timeout = options.timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak cancel] in
                guard let cancel, !cancel.isCancelled else { return }
                timedOut.withLock { $0 = true }
                cancel.cancel()
            }
        }
        let sources = Set(graph.nodes.filter { $0.inputs.isEmpty }.map(\.id))
        let duration = summary.mediaDuration
        let report = GraphRunner(graph: graph, pool: pool).run(cancel: cancel, progressInterval: options.progressInterval) { stats in
            events(.progress(FileProgress(index: index, input: input, mediaSeconds: Self.mediaSeconds(stats, sources: sources),
                                          duration: duration, wallSeconds: Date().timeIntervalSince(started))))
        }
        summary.stages = report.stages
        summary.labels = report.labels.isEmpty ? nil : report.labels
        summary.mediaSeconds = Self.mediaSeconds(report.stages, sources: sources)
        summary.outputs = report.outputs.map { file in
            var file = file
            file.path = folder.relativePath(of: file.path)
            return file
        }
        let damaged = report.streams.filter(\.health.isDamaged)
        if !damaged.isEmpty {
            summary.damage = FileSummary.Damage(streams: damaged.map { .init(stream: $0.stream, health: $0.health) })
        }
        switch report.status {
        case .completed:
            // The media time reached is where the decoders really got to (the end of the last
            // frame), never more than the container's duration.
            let reached = report.streams.compactMap(\.health.endSeconds).min()
            if let reached { summary.mediaSeconds = reached }
            if let duration = summary.mediaDuration, let seconds = summary.mediaSeconds {
                summary.mediaSeconds = min(seconds, duration)
            }
            summary.status = damaged.isEmpty ? .completed : .damaged
        case .failed:
            summary.error = report.failure.map { FileSummary.Failure(stage: $0.stage, seconds: $0.seconds, message: $0.message) }
        case .cancelled where timedOut.current:
            summary.error = FileSummary.Failure(stage: "timeout", seconds: summary.mediaSeconds,
                                                message: String(format: "did not finish within %.1f s", options.timeout ?? 0))
        case .cancelled:
            summary.status = .cancelled
        }
        return finish(summary, folder: folder, index: index, events: events, ownership: ownership)
    }

    /// Stamps the end time, writes `summary.json`, publishes a completed folder, reports.
    private func finish(_ summary: FileSummary, folder: OutputFolder, index: Int,
                        events: @Sendable (ProcessEvent) -> Void, ownership: RunOwnership?,
                        writeSummary: Bool = true) -> FileSummary {
        // An abandoned run that finally returns must not publish or report over the failure
        // its caller already recorded.
        guard ownership?.claim() ?? true else { return summary }
        var summary = summary
        summary.finishedAt = Date()
        summary.wallSeconds = summary.finishedAt.timeIntervalSince(summary.startedAt)
        if let media = summary.mediaSeconds, summary.wallSeconds > 0 { summary.speed = media / summary.wallSeconds }
        let publishes = summary.status == .completed || summary.status == .damaged
        if publishes { summary.output = folder.finalPath }
        if writeSummary {
            do {
                try AtomicFile.write(summary.jsonData(), to: "\(folder.workPath)/summary.json")
                if publishes { try folder.publish() }
            } catch {
                summary.output = folder.workPath
                if summary.status == .failed, var first = summary.error {
                    // Keep the first cause (a sink that met the full disk first, say).
                    first.message += "; then: \(describe(error))"
                    summary.error = first
                } else {
                    summary.error = FileSummary.Failure(stage: "output", seconds: nil, message: describe(error))
                }
                summary.status = .failed
                try? AtomicFile.write(summary.jsonData(), to: "\(folder.workPath)/summary.json")
            }
        }
        events(.finished(index: index, summary: summary))
        return summary
    }

    /// The media time of the slowest source: how far the whole file has got.
    static func mediaSeconds(_ stats: [StageStats], sources: Set<String>) -> Double {
        stats.filter { sources.contains($0.id) }.map { $0.lastSeconds ?? 0 }.min() ?? 0
    }
}
