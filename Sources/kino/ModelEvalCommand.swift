import ArgumentParser
import Foundation
import KinoModels
import KinoTensor
import KinoTrain

/// `kino model eval --model DIR --data DATA`: accuracy of a classifier on a labelled set, with
/// the inputs `kino train` uses (an audio file's first window, a video's first clip).
struct ModelEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a classifier (and adapter) on a labelled folder: accuracy, top-5, macro-F1, per-class recall, confusion matrix.",
        discussion: "DATA is laid out as for kino train (class subfolders or metadata.csv/.jsonl) and may only use the model's labels. Each file is one input, made exactly as kino train makes it: AST and compact audio models take the first fbank window, ViT the middle frame, clip models the first clip (frame stride 2). Unreadable files are skipped with a warning and counted.")

    @Option(help: "The model folder.") var model: String
    @Option(help: "An adapter folder to attach.") var adapter: String?
    @Option(help: "The labelled folder.") var data: String
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func run() throws {
        BLAS.useSingleThread()
        do {
            let network = try loadAdapted(base: ModelRegistry.load(directory: model), adapter: adapter).model
            guard !network.labels.isEmpty else { throw CommandError("\(model) has no classification head") }
            let set = try LabelledSet.load(data, labels: network.labels)
            let maker = InputMaker(model: network, modelDirectory: model)
            var rows: [Tensor] = [], truth: [[Int]] = [], skipped: [String] = []
            let started = Date()
            var batch: [Tensor] = []
            func flush() throws {
                guard !batch.isEmpty else { return }
                rows.append(try network(Tensor.concatenate(batch.map { $0.reshaped([1] + $0.shape) })).logits!)
                batch = []
            }
            for f in set.files {
                do {
                    batch.append(try maker.input(for: data + "/" + f.path))
                    truth.append(f.labels)
                } catch {
                    skipped.append(f.path)
                    printWarning("skipping \(data)/\(f.path): \(describeError(error))")
                }
                if batch.count == 16 { try flush() }
            }
            try flush()
            guard !truth.isEmpty else { throw CommandError("\(data): none of the \(set.files.count) files could be read") }
            let logits = Tensor.concatenate(rows)
            let classes = network.labels.count
            let e = set.multiLabel ? Evaluation(logits: logits, targets: truth, classes: classes)
                : Evaluation(logits: logits, labels: truth.map { $0[0] }, classes: classes)
            let seconds = Date().timeIntervalSince(started)
            var recall: [String: Double] = [:], support: [String: Int] = [:]
            if let confusion = e.fields["confusion"] as? [[Int]] {
                for (c, row) in confusion.enumerated() where row.reduce(0, +) > 0 {
                    recall[network.labels[c]] = Double(row[c]) / Double(row.reduce(0, +))
                    support[network.labels[c]] = row.reduce(0, +)
                }
            }
            if json {
                var object = e.fields
                object["files"] = truth.count
                object["skipped"] = skipped
                object["labels"] = network.labels
                object["recall"] = recall
                object["seconds"] = seconds
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("\(model)\(adapter.map { " + " + $0 } ?? "") on \(data): \(truth.count) files" + (skipped.isEmpty ? "" : ", \(skipped.count) skipped")
                  + String(format: " (%.1f s)", seconds))
            if set.multiLabel {
                print(String(format: "mAP %.4f, micro-F1 %.4f, exact match %.4f", e.main,
                             e.fields["val_micro_f1"] as! Double, e.fields["val_exact_match"] as! Double))
                return
            }
            print(String(format: "accuracy %.4f, top-5 %.4f, macro-F1 %.4f", e.main, e.fields["val_top5"] as! Double,
                         e.fields["val_macro_f1"] as! Double))
            print("| label | files | recall |\n|---|---|---|")
            for label in network.labels where support[label] != nil {
                print("| \(label) | \(support[label]!) | " + String(format: "%.3f", recall[label]!) + " |")
            }
            let confusion = e.fields["confusion"] as! [[Int]]
            print("confusion (rows: true, columns: predicted; " + network.labels.joined(separator: ", ") + "):")
            for row in confusion { print("  " + row.map { String(format: "%4d", $0) }.joined()) }
        } catch let error as ExitCode {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}
