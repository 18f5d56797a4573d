import Foundation
import KinoDSP
import KinoMedia
import KinoModels
import KinoTensor
import SwiftCSV

/// A labelled file set, in either of Hugging Face's `audiofolder`/`videofolder` layouts: one
/// subfolder per class, or a `metadata.csv` / `metadata.jsonl` at the root naming each file
/// (`file_name`, relative to the root) and its label or labels. Files come in byte-wise order of
/// their relative paths; labels in byte-wise order of their names.
///
/// In `metadata.csv` the `label` (or `labels`) cell may hold several labels separated by commas
/// (quoted, as FSD50K writes them); in `metadata.jsonl` the field is a string (one label) or an
/// array. A set where any file has more than one label is multi-label.
struct LabelledSet {
    var root: String
    var labels: [String]
    /// Relative path and class indices (one for a single-label set).
    var files: [(path: String, labels: [Int])]
    var multiLabel: Bool
    /// Where the labels came from: the folder layout or the metadata file's name.
    var source: String

    static let mediaExtensions: Set<String> = ["wav", "flac", "mp3", "ogg", "opus", "m4a", "aac", "mp4", "mkv", "mov", "webm",
                                               "avi", "png", "jpg", "jpeg"]

    static func byteOrder(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    /// Reads `root`. With `known` labels (a validation set), every label must be one of them.
    static func load(_ root: String, labels known: [String]? = nil) throws -> LabelledSet {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainDataError("\(root): not a folder (class subfolders, or a metadata.csv / metadata.jsonl)")
        }
        let csv = fm.fileExists(atPath: root + "/metadata.csv"), jsonl = fm.fileExists(atPath: root + "/metadata.jsonl")
        if csv && jsonl { throw TrainDataError("\(root): both metadata.csv and metadata.jsonl; keep one") }
        let set: LabelledSet
        if csv || jsonl {
            let rows = csv ? try csvRows(root + "/metadata.csv") : try jsonlRows(root + "/metadata.jsonl")
            set = try fromMetadata(rows, root: root, name: csv ? "metadata.csv" : "metadata.jsonl", known: known)
        } else {
            set = try scanFolders(root, known: known)
        }
        if known == nil, set.labels.count < 2 {
            throw TrainDataError("\(root): \(set.labels.count) label\(set.labels.count == 1 ? "" : "s") (\(set.labels.joined(separator: ", "))) in \(set.source); a classifier needs at least 2")
        }
        return set
    }

    static func scanFolders(_ root: String, known: [String]?) throws -> LabelledSet {
        let fm = FileManager.default
        let classes = try fm.contentsOfDirectory(atPath: root).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted(by: byteOrder)
        let labels = known ?? classes
        var files: [(String, [Int])] = []
        for name in classes {
            guard let index = labels.firstIndex(of: name) else {
                throw TrainDataError("\(root)/\(name): class \"\(name)\" is not one of the training labels (\(labels.joined(separator: ", ")))")
            }
            let entries = try fm.contentsOfDirectory(atPath: root + "/" + name).filter {
                !$0.hasPrefix(".") && mediaExtensions.contains(($0 as NSString).pathExtension.lowercased())
            }
            if entries.isEmpty, known == nil { throw TrainDataError("\(root)/\(name): empty class folder (no audio, video or image files)") }
            for entry in entries { files.append((name + "/" + entry, [index])) }
        }
        files.sort { byteOrder($0.0, $1.0) }
        return LabelledSet(root: root, labels: labels, files: files, multiLabel: false, source: "class folders")
    }

    /// One metadata row: where it was (for messages), the file and its labels (nil when the
    /// label field is absent or empty).
    struct Row {
        var place: String
        var fileName: String?
        var labels: [String]?
    }

    static func csvRows(_ path: String) throws -> [Row] {
        let table: CSV<Named>
        do {
            table = try CSV<Named>(url: URL(fileURLWithPath: path), delimiter: .comma, loadColumns: false)
        } catch {
            throw TrainDataError("\(path): not readable as CSV (\(error))")
        }
        guard table.header.contains("file_name") else {
            throw TrainDataError("\(path): no file_name column (header: \(table.header.joined(separator: ",")))")
        }
        guard let column = ["label", "labels"].first(where: table.header.contains) else {
            throw TrainDataError("\(path): no label or labels column (header: \(table.header.joined(separator: ",")))")
        }
        return table.rows.enumerated().map { i, row in
            let names = (row[column] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return Row(place: "\(path) row \(i + 1)", fileName: row["file_name"].flatMap { $0.isEmpty ? nil : $0 },
                       labels: names.isEmpty ? nil : names)
        }
    }

    static func jsonlRows(_ path: String) throws -> [Row] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TrainDataError("\(path): not readable as UTF-8 text") }
        var rows: [Row] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let place = "\(path) line \(i + 1)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw TrainDataError("\(place): not a JSON object")
            }
            let value = object["label"] ?? object["labels"]
            var names: [String]?
            switch value {
            case let one as String: names = one.isEmpty ? nil : [one]
            case let many as [Any]:
                guard let strings = many as? [String] else { throw TrainDataError("\(place): labels must be strings") }
                names = strings.isEmpty ? nil : strings
            case nil, is NSNull: names = nil
            default: throw TrainDataError("\(place): label must be a string or an array of strings")
            }
            rows.append(Row(place: place, fileName: object["file_name"] as? String, labels: names))
        }
        return rows
    }

    static func fromMetadata(_ rows: [Row], root: String, name: String, known: [String]?) throws -> LabelledSet {
        guard !rows.isEmpty else { throw TrainDataError("\(root)/\(name): no rows") }
        var seen = Set<String>()
        var named: [(String, [String])] = []
        for row in rows {
            guard let file = row.fileName else { throw TrainDataError("\(row.place): no file_name") }
            guard let labels = row.labels else { throw TrainDataError("\(row.place): \(file) has no label") }
            guard !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
                throw TrainDataError("\(row.place): file_name \(file) must be a path inside \(root)")
            }
            guard seen.insert(file).inserted else { throw TrainDataError("\(row.place): \(file) is listed twice") }
            named.append((file, Array(Set(labels)).sorted(by: byteOrder)))
        }
        let labels = known ?? Array(Set(named.flatMap(\.1))).sorted(by: byteOrder)
        var files: [(String, [Int])] = []
        for (file, names) in named {
            var indices: [Int] = []
            for n in names {
                guard let index = labels.firstIndex(of: n) else {
                    throw TrainDataError("\(root)/\(name): \(file) has label \"\(n)\", not one of the training labels (\(labels.joined(separator: ", ")))")
                }
                indices.append(index)
            }
            files.append((file, indices.sorted()))
        }
        files.sort { byteOrder($0.0, $1.0) }
        return LabelledSet(root: root, labels: labels, files: files, multiLabel: files.contains { $0.1.count > 1 }, source: name)
    }
}

/// A plain runtime error of a command (printed as its message, exit status 1).
typealias CommandError = TrainDataError

struct TrainDataError: Error, LocalizedError {
    var message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }
}

/// Model inputs for files, as `kino classify` computes them: AST its first fbank window,
/// ViT the middle frame (pixel_values), clip models the first clip (frame stride 2; 1 for
/// VideoMAE and TimeSformer).
struct InputMaker {
    var model: any KinoModel
    var modelDirectory: String

    func input(for path: String) throws -> Tensor {
        if let ast = model as? any FbankClassifier {
            let (audio, health) = try AudioDecoder.decodeAllReporting(path: path, sampleRate: 16000, mono: true)
            if health.isDamaged { throw TrainDataError("\(path): damaged (\(health.description))") }
            var options = ASTFeatureExtractor.Options()
            options.maxLength = ast.windowFrames
            options.numMelBins = ast.melBins
            let windows = try ASTFeatureExtractor(options: options).windows(audio.samples, hopFrames: options.maxLength)
            guard let first = windows.first else { throw TrainDataError("\(path): no audio") }
            return Tensor(shape: ast.sampleShape, values: first.features.values)
        }
        let decoder = try VideoDecoder(path: path, options: VideoDecodeOptions(layout: .rgb24))
        let index = try decoder.frameIndex()
        guard index.count > 0 else { throw TrainDataError("\(path): no video frames") }
        let size = model.sampleShape.last!
        func image(_ f: VideoFrame) -> RGB8Image { RGB8Image(width: f.width, height: f.height, pixels: f.bytes) }
        if model is ViTForImageClassification {
            let config = try ImageProcessorConfiguration.load(directory: modelDirectory, imageSize: size)
            let t = ImagePreprocessor(configuration: config).pixelValues([image(try decoder.frame(at: index.count / 2))])
            return t.reshaped(model.sampleShape)
        }
        let length = model.sampleShape[0]
        // The first clip as `kino classify` takes it: every 2nd frame, consecutive ones for VideoMAE/TimeSformer.
        let stride = (model as? any VideoMAEProcessedClassifier)?.frameSampling.stride ?? 2
        let frames = try decoder.frames(at: (0..<length).map { min($0 * stride, index.count - 1) })
        // VideoMAE and TimeSformer follow the folder's preprocessor_config.json, ViViT its original range.
        let pre = try VideoPreprocessor.forModel(model, directory: modelDirectory, range: .original)
        return pre.clip(frames.map(image)).reshaped(model.sampleShape)
    }
}

