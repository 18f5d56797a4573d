import Foundation
import KinoDSP
import KinoMedia
import KinoModels
import KinoTensor

/// A labelled file set in Hugging Face's `audiofolder`/`videofolder` layout: one subfolder per
/// class, files in byte-wise order of their relative paths.
struct LabelledFolder {
    var root: String
    var labels: [String]
    /// Relative path and class index.
    var files: [(path: String, label: Int)]

    static let mediaExtensions: Set<String> = ["wav", "flac", "mp3", "ogg", "opus", "m4a", "aac", "mp4", "mkv", "mov", "webm",
                                               "avi", "png", "jpg", "jpeg"]

    static func scan(_ root: String, labels known: [String]? = nil) throws -> LabelledFolder {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainDataError("\(root): not a folder of class subfolders")
        }
        let classes = try fm.contentsOfDirectory(atPath: root).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let labels = known ?? classes
        guard known != nil || labels.count >= 2 else {
            throw TrainDataError("\(root): \(classes.count) class folder\(classes.count == 1 ? "" : "s") (\(classes.joined(separator: ", "))); a classifier needs at least 2")
        }
        var files: [(String, Int)] = []
        for name in classes {
            guard let index = labels.firstIndex(of: name) else {
                throw TrainDataError("\(root)/\(name): class \"\(name)\" is not one of the training labels (\(labels.joined(separator: ", ")))")
            }
            let entries = try fm.contentsOfDirectory(atPath: root + "/" + name).filter {
                !$0.hasPrefix(".") && mediaExtensions.contains(($0 as NSString).pathExtension.lowercased())
            }
            if entries.isEmpty, known == nil { throw TrainDataError("\(root)/\(name): empty class folder (no audio, video or image files)") }
            for entry in entries { files.append((name + "/" + entry, index)) }
        }
        files.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        return LabelledFolder(root: root, labels: labels, files: files)
    }
}

struct TrainDataError: Error, LocalizedError {
    var message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }
}

/// Model inputs for files, as `kino classify` computes them: AST its first fbank window,
/// ViT the middle frame (pixel_values), clip models the first clip (frame stride 2).
struct InputMaker {
    var model: any KinoModel
    var modelDirectory: String

    func input(for path: String) throws -> Tensor {
        if let ast = model as? ASTForAudioClassification {
            let (audio, health) = try AudioDecoder.decodeAllReporting(path: path, sampleRate: 16000, mono: true)
            if health.isDamaged { throw TrainDataError("\(path): damaged (\(health.description))") }
            var options = ASTFeatureExtractor.Options()
            options.maxLength = ast.configuration.maximumLength
            options.numMelBins = ast.configuration.numberOfMelBins
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
        let frames = try decoder.frames(at: (0..<length).map { min($0 * 2, index.count - 1) })
        return VideoPreprocessor(cropSize: size, range: .original).clip(frames.map(image)).reshaped(model.sampleShape)
    }
}

/// Per-epoch validation figures.
struct Evaluation: Codable {
    var accuracy: Double
    var top5: Double
    var macroF1: Double
    /// Rows: true class, columns: predicted.
    var confusion: [[Int]]

    init(logits: Tensor, labels: [Int], classes: Int) {
        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var top5Hits = 0
        for (i, label) in labels.enumerated() {
            let row = Array(logits.storage[i * classes ..< (i + 1) * classes])
            let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            confusion[label][order[0]] += 1
            if order.prefix(5).contains(label) { top5Hits += 1 }
        }
        let n = max(1, labels.count)
        accuracy = Double((0..<classes).map { confusion[$0][$0] }.reduce(0, +)) / Double(n)
        top5 = Double(top5Hits) / Double(n)
        var f1s: [Double] = []
        for c in 0..<classes {
            let tp = Double(confusion[c][c])
            let predicted = Double((0..<classes).map { confusion[$0][c] }.reduce(0, +))
            let actual = Double(confusion[c].reduce(0, +))
            guard actual > 0 else { continue }
            f1s.append(tp == 0 ? 0 : 2 * tp / (predicted + actual))
        }
        macroF1 = f1s.isEmpty ? 0 : f1s.reduce(0, +) / Double(f1s.count)
        self.confusion = confusion
    }
}
