import ArgumentParser
import Foundation
import KinoMedia

struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Extract exact frames as PNG files plus frames.jsonl (index, pts, seconds, file).",
        discussion: "Exactly one of --fps, --count, --indices, --times. Frames are found through a packet index, so the frame at an index or time is exact on files with B-frames, long GOPs and variable frame rates.")

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
        do {
            let decoder = try VideoDecoder(path: file, options: options)
            let picked = try selection.resolve(in: try decoder.frameIndex(), path: file)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            var lines: [String] = []
            let digits = max(6, String(try decoder.frameIndex().count).count)
            for i in picked {
                let frame = try decoder.frame(at: i)
                let name = "frame_" + String(repeating: "0", count: max(0, digits - String(i).count)) + "\(i).png"
                try ImageFile.write(frame, to: "\(output)/\(name)")
                lines.append(#"{"index":\#(i),"pts":\#(frame.pts),"time_base":"\#(frame.timeBase)","seconds":\#(String(format: "%.6f", frame.seconds)),"file":"\#(name)"}"#)
            }
            for w in decoder.warnings { printWarning("\(file): \(w)") }
            try writeAtomically(lines.joined(separator: "\n") + "\n", to: "\(output)/frames.jsonl")
            print("\(file): wrote \(picked.count) frames to \(output)")
        } catch {
            printError(error)
            throw ExitCode(1)
        }
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

/// Writes text to a temporary sibling, then renames it into place.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
    try Data(text.utf8).write(to: temporary)
    guard rename(temporary.path, path) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
}
