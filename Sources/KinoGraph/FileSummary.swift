import Foundation
import KinoMedia

/// What happened to one input file: the content of its `summary.json`.
///
/// Written into the file's output folder whatever the outcome, so a folder without a
/// summary (or still named `.incomplete`) is never mistaken for a finished one.
public struct FileSummary: Sendable, Codable, Equatable {
    /// How processing of the file ended.
    public enum Status: String, Sendable, Codable {
        /// The pipeline ran to the end; the output folder has its final name.
        case completed
        /// Probing, building or running the pipeline failed; see ``FileSummary/error``.
        case failed
        /// Stopped by a signal or a caller's cancel token before finishing.
        case cancelled
        /// The pipeline ran to the end, but the decoders met errors, concealed or dropped
        /// frames, or stopped before the stream's end: the outputs are published (so what
        /// could be read is kept), and ``FileSummary/damage`` says what was wrong. Not retried
        /// by `kino watch`; `kino process` exits with status 3 unless `--accept-damaged`.
        case damaged
        /// The input is not a media file at all (no stream FFmpeg or libsndfile can open):
        /// nothing was written, and `kino watch` records it once instead of retrying it.
        case rejected
    }

    /// What the decoders reported on a damaged input, per stream.
    public struct Damage: Sendable, Codable, Equatable {
        /// One decoded stream's tally.
        public struct Stream: Sendable, Codable, Equatable {
            /// `video` or `audio`, with the stream's index in the container (`video:0`).
            public var stream: String
            /// Packets or frames the decoder rejected with an error.
            public var decodeErrors: Int
            /// Frames the decoder flagged as corrupt (concealed) or that were skipped.
            public var corruptFrames: Int
            /// Media time (seconds) of the last frame decoded.
            public var reachedSeconds: Double?
            /// The stream's duration according to the container, when it declares one.
            public var expectedSeconds: Double?
            /// The first few decoder messages, in order.
            public var firstErrors: [String]

            public init(stream: String, decodeErrors: Int = 0, corruptFrames: Int = 0, reachedSeconds: Double? = nil,
                        expectedSeconds: Double? = nil, firstErrors: [String] = []) {
                self.stream = stream
                self.decodeErrors = decodeErrors
                self.corruptFrames = corruptFrames
                self.reachedSeconds = reachedSeconds
                self.expectedSeconds = expectedSeconds
                self.firstErrors = firstErrors
            }

            /// The tally of a decoder's ``DecodeHealth``.
            public init(stream: String, health: DecodeHealth) {
                self.init(stream: stream, decodeErrors: health.decodeErrors, corruptFrames: health.corruptFrames,
                          reachedSeconds: health.endSeconds, expectedSeconds: health.expectedSeconds,
                          firstErrors: health.messages)
            }

            /// The counts back as a ``DecodeHealth``, whose rules (the shortfall's slack, the
            /// wording) are the one place these are judged and said.
            public var health: DecodeHealth {
                var health = DecodeHealth(expectedSeconds: expectedSeconds)
                health.decodeErrors = decodeErrors
                health.corruptFrames = corruptFrames
                health.endSeconds = reachedSeconds
                return health
            }
        }

        public var streams: [Stream]

        public init(streams: [Stream]) { self.streams = streams }

        /// `video:0: 3 decode errors, stopped at 4.44 s of 10.00 s; audio:1: …` and the first error.
        public var description: String {
            var text = streams.map { "\($0.stream): \($0.health.description)" }.joined(separator: "; ")
            if let first = streams.lazy.compactMap(\.firstErrors.first).first { text += " (first: \(first))" }
            return text
        }
    }

    /// Why a file failed: the stage (or `probe`, `pipeline`, `output`, `timeout`), the media
    /// time reached and the cause.
    public struct Failure: Sendable, Codable, Equatable {
        public var stage: String
        public var seconds: Double?
        public var message: String

        public init(stage: String, seconds: Double?, message: String) {
            self.stage = stage
            self.seconds = seconds
            self.message = message
        }
    }

    /// The input file as given.
    public var input: String
    /// The output folder: `OUTDIR/<name>` when completed, `OUTDIR/<name>.incomplete` otherwise;
    /// `nil` when the file was never started.
    public var output: String?
    /// The pipeline's name (`nil` when it could not be chosen or read).
    public var pipeline: String?
    /// The pipeline file that was run.
    public var pipelinePath: String?
    public var status: Status
    public var error: Failure?
    /// Set when ``status`` is ``Status/damaged``: what the decoders reported.
    public var damage: Damage?
    /// The file's duration according to its container, in seconds.
    public var mediaDuration: Double?
    /// Media time the slowest source had reached when the run ended.
    public var mediaSeconds: Double?
    /// Wall-clock seconds spent on this file (probe, build and run).
    public var wallSeconds: Double
    /// `mediaSeconds / wallSeconds`: how many times faster than real time.
    public var speed: Double?
    public var startedAt: Date
    public var finishedAt: Date
    /// Per-stage statistics of the run (empty when it never started).
    public var stages: [StageStats]
    /// Files the sinks wrote, with paths relative to the output folder.
    public var outputs: [OutputFile]
    /// The main labels each classifier stage found (or why it did not run); `nil` when the
    /// pipeline has no classifier.
    public var labels: [FileLabels]?

    /// A summary; everything but the input and the status may be filled in as the file goes.
    public init(input: String, status: Status, output: String? = nil, pipeline: String? = nil,
                pipelinePath: String? = nil, error: Failure? = nil, mediaDuration: Double? = nil,
                mediaSeconds: Double? = nil, wallSeconds: Double = 0, speed: Double? = nil,
                startedAt: Date = Date(), finishedAt: Date = Date(), stages: [StageStats] = [],
                outputs: [OutputFile] = []) {
        self.input = input
        self.status = status
        self.output = output
        self.pipeline = pipeline
        self.pipelinePath = pipelinePath
        self.error = error
        self.mediaDuration = mediaDuration
        self.mediaSeconds = mediaSeconds
        self.wallSeconds = wallSeconds
        self.speed = speed
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.stages = stages
        self.outputs = outputs
    }

    /// One line for a log: `file: completed in 2.1 s (3.0× realtime) → out/clip`.
    public var line: String {
        var text = "\(input): \(status.rawValue)"
        if let error {
            let time = error.seconds.map { String(format: " at %.3f s", $0) } ?? ""
            text += " in stage '\(error.stage)'\(time): \(error.message)"
        } else {
            text += String(format: " in %.2f s", wallSeconds)
            if let speed { text += String(format: " (%.1f× realtime)", speed) }
        }
        if let output { text += " → \(output)" }
        if let damage { text += ": " + damage.description }
        return text
    }

    /// Pretty-printed JSON with sorted keys and ISO 8601 dates.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    /// Reads a `summary.json` written by ``jsonData()``.
    public static func read(from path: String) throws -> FileSummary {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(FileSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// Where a file is during ``ProcessRunner`` work, for progress displays.
public struct FileProgress: Sendable, Equatable {
    /// Position of the file in the list given to ``ProcessRunner/run(_:cancel:events:)``.
    public var index: Int
    public var input: String
    /// Media time the slowest source has reached.
    public var mediaSeconds: Double
    /// Container duration, when known.
    public var duration: Double?
    public var wallSeconds: Double

    public init(index: Int, input: String, mediaSeconds: Double, duration: Double?, wallSeconds: Double) {
        self.index = index
        self.input = input
        self.mediaSeconds = mediaSeconds
        self.duration = duration
        self.wallSeconds = wallSeconds
    }

    /// Media seconds per wall second, once there is something to divide.
    public var speed: Double? {
        wallSeconds > 0.05 && mediaSeconds > 0 ? mediaSeconds / wallSeconds : nil
    }

    /// Seconds left at the current speed.
    public var eta: Double? {
        guard let speed, let duration else { return nil }
        return max(0, duration - mediaSeconds) / speed
    }

    /// Done fraction in 0…1, when the duration is known.
    public var fraction: Double? {
        guard let duration, duration > 0 else { return nil }
        return min(1, max(0, mediaSeconds / duration))
    }
}

/// What ``ProcessRunner`` reports while it works.
public enum ProcessEvent: Sendable {
    /// A file was started (after probing): its index, path and duration.
    case started(index: Int, input: String, duration: Double?)
    /// A snapshot of a running file.
    case progress(FileProgress)
    /// A file ended (in any way); its summary has been written.
    case finished(index: Int, summary: FileSummary)
}
