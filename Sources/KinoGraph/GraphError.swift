import Foundation

/// The one error type of KinoGraph: a bad graph or pipeline file, or a stage that failed.
///
/// Every case carries enough context to act on without a debugger: the stage ids at both ends
/// of a bad edge, the YAML line, the time in the media where processing stopped.
public enum GraphError: Error, LocalizedError, Sendable, Equatable {
    /// Two stages were given the same id.
    case duplicateStage(id: String, line: Int?)
    /// A stage names an input that no stage in the graph has.
    case danglingInput(stage: String, input: String, line: Int?)
    /// A stage got a different number of inputs than it declares.
    case inputCount(stage: String, expected: Int, got: Int, line: Int?)
    /// An edge joins ports of different types.
    case portMismatch(from: String, output: PortType, to: String, port: Int, expected: PortType)
    /// A stage with no output was used as an input.
    case noOutput(from: String, to: String)
    /// The stages form a cycle (listed in order).
    case cycle([String])
    /// A stage that keeps state across packets was asked to run in parallel.
    case parallelismUnsupported(stage: String, requested: Int)
    /// The pipeline file is not valid YAML or not the expected shape.
    case invalidPipeline(message: String, line: Int?)
    /// A stage kind that the registry does not know.
    case unknownKind(stage: String, kind: String, known: [String], line: Int?)
    /// An option that the stage kind does not declare; `known` lists the kind's options.
    case unknownOption(stage: String, kind: String, option: String, known: [String], line: Int?)
    /// An option of the wrong type or outside its allowed values.
    case invalidOption(stage: String, option: String, expected: String, got: String, line: Int?)
    /// A required option was not given.
    case missingOption(stage: String, option: String, line: Int?)
    /// An output path that could leave the file's output folder or overwrite what Kino writes
    /// (absolute, `..`, empty, `summary.json`, a hidden or `.incomplete` name).
    case invalidOutputPath(stage: String, option: String, path: String, reason: String, line: Int?)
    /// Two outputs of one pipeline are the same path, or one lies inside the other's folder.
    case outputCollision(stage: String, path: String, other: String, otherPath: String, line: Int?)
    /// A stage got input it cannot handle (a missing total, a sample-rate change).
    case invalidInput(stage: String, message: String)
    /// A stage threw while running; `seconds` is the media time of the packet it was handling.
    case stageFailed(stage: String, seconds: Double?, message: String)

    public var errorDescription: String? {
        switch self {
        case .duplicateStage(let id, let line):
            return at(line) + "stage id '\(id)' is used more than once"
        case .danglingInput(let stage, let input, let line):
            return at(line) + "stage '\(stage)' reads from '\(input)', but no stage has that id"
        case .inputCount(let stage, let expected, let got, let line):
            return at(line) + "stage '\(stage)' takes \(expected) input(s) but \(got) were given"
        case .portMismatch(let from, let output, let to, let port, let expected):
            return "cannot connect '\(from)' (outputs \(output)) to '\(to)' input \(port) (expects \(expected))"
        case .noOutput(let from, let to):
            return "stage '\(to)' reads from '\(from)', which is a sink and has no output"
        case .cycle(let ids):
            return "stages form a cycle: " + (ids + ids.prefix(1)).joined(separator: " -> ")
        case .parallelismUnsupported(let stage, let requested):
            return "stage '\(stage)' keeps state between packets and cannot run with parallelism \(requested)"
        case .invalidPipeline(let message, let line):
            return at(line) + message
        case .unknownKind(let stage, let kind, let known, let line):
            return at(line) + "stage '\(stage)' has unknown kind '\(kind)' (known: \(known.joined(separator: ", ")))"
        case .unknownOption(let stage, let kind, let option, let known, let line):
            let list = known.isEmpty ? "kind '\(kind)' takes no options"
                : "kind '\(kind)' takes: \(known.joined(separator: ", "))"
            return at(line) + "stage '\(stage)' has unknown option '\(option)' (\(list))"
        case .invalidOption(let stage, let option, let expected, let got, let line):
            return at(line) + "stage '\(stage)' option '\(option)' must be \(expected), got '\(got)'"
        case .missingOption(let stage, let option, let line):
            return at(line) + "stage '\(stage)' needs option '\(option)'"
        case .invalidOutputPath(let stage, let option, let path, let reason, let line):
            return at(line) + "stage '\(stage)' option '\(option)': output path '\(path)' is not allowed: \(reason)"
        case .outputCollision(let stage, let path, let other, let otherPath, let line):
            let how = path == otherPath ? "the same path as" : "a path overlapping"
            return at(line) + "stage '\(stage)' writes '\(path)', \(how) stage '\(other)' ('\(otherPath)'); "
                + "each output needs its own path, outside other outputs' folders"
        case .invalidInput(let stage, let message):
            return "stage '\(stage)': \(message)"
        case .stageFailed(let stage, let seconds, let message):
            let time = seconds.map { String(format: " at %.3f s", $0) } ?? ""
            return "stage '\(stage)' failed\(time): \(message)"
        }
    }

    /// The YAML line the error points at, when it came from a pipeline file.
    public var line: Int? {
        switch self {
        case .duplicateStage(_, let line), .danglingInput(_, _, let line), .inputCount(_, _, _, let line),
             .invalidPipeline(_, let line), .unknownKind(_, _, _, let line),
             .unknownOption(_, _, _, _, let line), .invalidOption(_, _, _, _, let line),
             .missingOption(_, _, let line), .invalidOutputPath(_, _, _, _, let line),
             .outputCollision(_, _, _, _, let line):
            return line
        default:
            return nil
        }
    }

    private func at(_ line: Int?) -> String {
        line.map { "line \($0): " } ?? ""
    }
}
