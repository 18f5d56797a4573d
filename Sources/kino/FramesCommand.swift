import ArgumentParser
import Foundation
import KinoFiles
import KinoMedia

struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Extract exact frames as PNG files plus frames.jsonl (request, index, pts, seconds, file).",
        discussion: """
            Exactly one of --fps, --count, --indices, --times. Frames are found through a packet index, so the \
            frame at an index or time is exact on files with B-frames, long GOPs and variable frame rates. \
            frames.jsonl has one row per request, in the order asked (two times on one frame give two rows); \
            --count N picks ⌊k·(frames−1)/(N−1)⌋, the rule of the pipeline's uniform sampler. A request whose \
            frame cannot be decoded (a damaged file) gets a row with "file": null and its error. Exit status: \
            0 when every request got its frame from a clean file; 3 when some got none or the file is damaged \
            (decode errors, or packets ending before the declared duration); 1 when it cannot be read at all.
            """)

    @Argument(help: "The video file.") var file: String
    @Option(help: "Frames per second of video time.") var fps: Double?
    @Option(help: "This many frames spread evenly from the first to the last.") var count: Int?
    @Option(help: "Comma-separated frame indices, e.g. 0,10,20.") var indices: String?
    @Option(help: "Comma-separated times in seconds, e.g. 1.5,3.0.") var times: String?
    @Option(help: "Output size WxH.") var size: String?
    @Option(help: "Scale so the short side is this many pixels.") var shortSide: Int?
    @Option(help: "How --size is met: stretch, short-side-crop, fit.") var resize: String = "stretch"
    @Option(help: "Decoder threads (0 = automatic).") var threads: Int = 0
    @Option(name: .shortAndLong, help: "Output folder.") var output: String

    func validate() throws {
        let chosen = [fps != nil, count != nil, indices != nil, times != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("give exactly one of --fps, --count, --indices, --times") }
        if size != nil && shortSide != nil { throw ValidationError("give --size or --short-side, not both") }
        guard ResizeMode(rawValue: resize) != nil else {
            throw ValidationError("--resize must be one of \(ResizeMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let size { _ = try parseSize(size) }
    }

    func run() throws {
        let selection: FrameSelection
        if let fps { selection = .rate(fps) }
        else if let count { selection = .count(count) }
        else if let indices { selection = .indices(try parseList(indices, as: Int.self, option: "--indices")) }
        else { selection = .times(try parseList(times ?? "", as: Double.self, option: "--times")) }
        let dims = try size.map(parseSize)
        let options = VideoDecodeOptions(width: dims?.0, height: dims?.1, shortSide: shortSide,
                                         resize: ResizeMode(rawValue: resize)!, layout: .rgb24, threads: threads)
        var missing = 0
        var requestCount = 0
        var damaged = false
        do {
            let decoder = try VideoDecoder(path: file, options: options)
            let index = try decoder.frameIndex()
            let requests = try selection.requests(in: index, path: file)
            requestCount = requests.count
            try AtomicFile.makeDirectories(output)
            var rows: [FrameRow] = []
            let digits = max(6, String(index.count).count)
            // One row per request; a frame asked for twice is decoded and written once.
            var done: [Int: Result<FrameRow, MediaError>] = [:]
            for (number, request) in requests.enumerated() {
                let i = request.index
                if done[i] == nil {
                    do {
                        let frame = try decoder.frame(at: i)
                        let name = "frame_" + String(repeating: "0", count: max(0, digits - String(i).count)) + "\(i).png"
                        try ImageFile.write(frame, to: "\(output)/\(name)")
                        done[i] = .success(FrameRow(index: i, pts: frame.pts, timeBase: "\(frame.timeBase)",
                                                    seconds: frame.seconds, file: name))
                    } catch let error as MediaError where error.kind == .corrupt || error.kind == .codec || error.kind == .outOfRange {
                        // A damaged file: the frame the index lists could not be decoded.
                        done[i] = .failure(error)
                    }
                }
                var row: FrameRow
                switch done[i]! {
                case .success(let written): row = written
                case .failure(let error):
                    row = FrameRow(index: i, pts: index.entries[i].pts, timeBase: "\(index.timeBase)",
                                   seconds: index.seconds(i), file: nil, error: error.message)
                    missing += 1
                }
                row.request = number
                row.requestedSeconds = request.seconds
                rows.append(row)
            }
            for w in decoder.warnings { printWarning("\(file): \(w)") }
            damaged = !decoder.warnings.isEmpty || decoder.health.corruptFrames > 0
            // The packets of a file cut short end before the duration its header declares.
            if let declared = decoder.health.expectedSeconds, let last = index.entries.indices.last {
                var cut = DecodeHealth(expectedSeconds: declared)
                cut.frames = index.count
                cut.endSeconds = index.seconds(last) + index.timeBase.seconds(index.entries[last].duration)
                if cut.shortfall > 0 {
                    printWarning("\(file): the stream's packets end at \(String(format: "%.2f", cut.endSeconds ?? 0)) s of the \(String(format: "%.2f", declared)) s its header declares (truncated?)")
                    damaged = true
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let lines = try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            try AtomicFile.write(Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8), to: "\(output)/frames.jsonl")
        } catch {
            printError(error)
            throw ExitCode(1)
        }
        let written = requestCount - missing
        print("\(file): wrote \(written) of \(requestCount) requested frames to \(output)")
        if missing > 0 || requestCount == 0 {
            printWarning("\(file): \(missing) of \(requestCount) requested frame(s) could not be decoded (the rows of frames.jsonl with \"file\": null say which); exit status 3")
            throw ExitCode(3)
        }
        if damaged {
            printWarning("\(file): the input is damaged (see the warnings above); exit status 3")
            throw ExitCode(3)
        }
    }
}

/// One line of `frames.jsonl`: the request, the frame that answers it, and its file (`null`
/// with an `error` when the frame could not be decoded).
struct FrameRow: Encodable {
    var request = 0
    /// The time asked for (`--times`, `--fps`).
    var requestedSeconds: Double?
    var index: Int
    var pts: Int64
    var timeBase: String
    var seconds: Double
    var file: String?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case request, index, pts, seconds, file, error
        case requestedSeconds = "requested_seconds"
        case timeBase = "time_base"
    }

    init(index: Int, pts: Int64, timeBase: String, seconds: Double, file: String?, error: String? = nil) {
        self.index = index
        self.pts = pts
        self.timeBase = timeBase
        self.seconds = seconds
        self.file = file
        self.error = error
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(request, forKey: .request)
        try c.encodeIfPresent(requestedSeconds, forKey: .requestedSeconds)
        try c.encode(index, forKey: .index)
        try c.encode(pts, forKey: .pts)
        try c.encode(timeBase, forKey: .timeBase)
        try c.encode((seconds * 1e6).rounded() / 1e6, forKey: .seconds)
        // `file` is always present: null marks a request without a frame.
        if let file { try c.encode(file, forKey: .file) } else { try c.encodeNil(forKey: .file) }
        try c.encodeIfPresent(error, forKey: .error)
    }
}

func parseSize(_ text: String) throws -> (Int, Int) {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0, w <= 16384, h <= 16384 else {
        throw ValidationError("size must be WxH with positive integers, e.g. 224x224 (got '\(text)')")
    }
    return (w, h)
}

func parseList<T: LosslessStringConvertible>(_ text: String, as: T.Type, option: String) throws -> [T] {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = items.compactMap { T($0) }
    guard !items.isEmpty, values.count == items.count else {
        throw ValidationError("\(option) must be a comma-separated list of numbers (got '\(text)')")
    }
    return values
}
