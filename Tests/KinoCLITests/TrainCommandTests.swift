import Foundation
import Testing
import KinoTensor
import KinoTestSupport

/// `kino train` on a tiny tone dataset and the tiny random AST fixture: reproducible, resumable,
/// files PEFT's layout, bad data refused, merged folders equal to their adapter.
@Suite(.timeLimit(.minutes(3))) struct TrainCommandTests {
    static let ast = "\(Repository.root)/Tests/KinoModelsTests/Fixtures/ast-a"

    /// Two classes of 16 kHz tones (low, high), four files each, in audiofolder layout.
    static func dataset(extra: ((String) throws -> Void)? = nil) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kino-train-\(UUID().uuidString)").path
        for (name, base) in [("high", 1800.0), ("low", 300.0)] {
            try FileManager.default.createDirectory(atPath: root + "/data/" + name, withIntermediateDirectories: true)
            for i in 0..<4 {
                try TinyMedia.writeWAV(to: "\(root)/data/\(name)/\(i).wav", seconds: 0.8, sampleRate: 16000,
                                       frequency: base * (1 + 0.1 * Double(i)))
            }
        }
        try extra?(root + "/data")
        return root
    }

    func train(_ root: String, _ run: String, _ more: [String] = []) throws -> KinoBinary.Result {
        try KinoBinary.run(["train", "--model", Self.ast, "--data", root + "/data", "--method", "lora", "--steps", "6",
                            "--batch-size", "4", "--seed", "3", "--checkpoint-every", "2", "-o", root + "/" + run] + more)
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func sameSeedSameWeightsAndResumeContinuesTheSameRun() throws {
        let root = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let a = try train(root, "a")
        #expect(a.status == 0, "\(a.errors)")
        #expect(a.output.contains("8 training files in 2 classes"))
        let b = try train(root, "b")
        #expect(b.status == 0)
        let weights = "/adapter/adapter_model.safetensors"
        #expect(try bytes(root + "/a" + weights) == bytes(root + "/b" + weights))
        let log = try String(contentsOfFile: root + "/a/train-log.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 6)
        // Resume from step 4 of run b: the same final weights as the straight run.
        try FileManager.default.removeItem(atPath: root + "/b/checkpoint-000006")
        try FileManager.default.removeItem(atPath: root + "/b/adapter")
        let c = try train(root, "b", ["--resume"])
        #expect(c.status == 0, "\(c.errors)")
        #expect(c.output.contains("resumed at step 4 of 6"))
        #expect(try bytes(root + "/a" + weights) == bytes(root + "/b" + weights))
        // A different seed gives other weights; an existing run is not overwritten.
        #expect(try train(root, "d", ["--seed", "4"]).status == 0)
        #expect(try bytes(root + "/a" + weights) != bytes(root + "/d" + weights))
        let again = try train(root, "a")
        #expect(again.status == 1 && again.errors.contains("already holds a run"))
        // The adapter is PEFT's layout and loads back with its new two-label head.
        let config = try #require(try JSONSerialization.jsonObject(with: bytes(root + "/a/adapter/adapter_config.json")) as? [String: Any])
        #expect(config["peft_type"] as? String == "LORA")
        #expect(config["target_modules"] as? [String] == ["q_proj", "v_proj"])
        let info = try KinoBinary.run(["model", "info", Self.ast, "--adapter", root + "/a/adapter"])
        #expect(info.status == 0, "\(info.errors)")
        #expect(info.output.contains("labels: 2"))
        #expect(info.output.contains("trainable: "))
    }

    @Test func validationMetricsAndAMergedFolderWithTheAdaptersLogits() throws {
        let root = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try train(root, "v", ["--val-split", "0.25", "--targets", "all"])
        #expect(r.status == 0, "\(r.errors)")
        let metrics = try #require(try JSONSerialization.jsonObject(with: bytes(root + "/v/metrics.json")) as? [String: Any])
        #expect(metrics["labels"] as? [String] == ["high", "low"])
        let epochs = try #require(metrics["epochs"] as? [[String: Any]])
        #expect(!epochs.isEmpty)
        #expect((epochs[0]["confusion"] as? [[Int]])?.flatMap { $0 }.reduce(0, +) == 2)   // 1 of 4 per class held out
        let merged = root + "/merged"
        let m = try KinoBinary.run(["model", "merge", "--model", Self.ast, "--adapter", root + "/v/adapter", "-o", merged])
        #expect(m.status == 0, "\(m.errors)")
        let input = "\(Self.ast)/reference.safetensors"
        #expect(try KinoBinary.run(["model", "run", "--model", Self.ast, "--adapter", root + "/v/adapter", "--input", input,
                                    "--output", root + "/a.safetensors"]).status == 0)
        #expect(try KinoBinary.run(["model", "run", "--model", merged, "--input", input, "--output", root + "/m.safetensors"]).status == 0)
        let a = try SafeTensorsFile(path: root + "/a.safetensors").tensor("logits")
        let b = try SafeTensorsFile(path: root + "/m.safetensors").tensor("logits")
        #expect(a.shape == [2, 2])
        #expect(a.maxAbsDifference(b) <= 1e-5)
        // A bottleneck adapter is not a linear change of the weights.
        #expect(try KinoBinary.run(["train", "--model", Self.ast, "--data", root + "/data", "--method", "houlsby", "--steps", "2",
                                    "-o", root + "/h"]).status == 0)
        let refused = try KinoBinary.run(["model", "merge", "--model", Self.ast, "--adapter", root + "/h/adapter", "-o", root + "/hm"])
        #expect(refused.status == 1 && refused.errors.contains("GELU"))
        #expect(!FileManager.default.fileExists(atPath: root + "/hm"))
    }

    /// Label-changing symmetries need pictures: a spectrogram model refuses them before training.
    @Test func labelSymmetriesAreRefusedWhereTheyMeanNothing() throws {
        let root = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mirror = try train(root, "m", ["--mirror-swaps", "high=low"])
        #expect(mirror.status == 1 && mirror.errors.contains("--mirror-swaps needs an image or clip model (this one takes spectrograms)"),
                "\(mirror.errors)")
        #expect(!FileManager.default.fileExists(atPath: root + "/m/adapter"))
    }

    @Test func corruptFilesAreSkippedByNameAndBadFoldersRefused() throws {
        let root = try Self.dataset { data in try TinyMedia.writeCorrupt(to: data + "/low/broken.wav") }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try train(root, "c")
        #expect(r.status == 0, "\(r.errors)")
        #expect(r.errors.contains("skipping \(root)/data/low/broken.wav"))
        #expect(r.output.contains("8 training files"))
        // One class.
        try FileManager.default.removeItem(atPath: root + "/data/low")
        let one = try train(root, "one")
        #expect(one.status == 1 && one.errors.contains("1 label (high) in class folders; a classifier needs at least 2"))
        #expect(!FileManager.default.fileExists(atPath: root + "/one/adapter"))
        // An empty class.
        try FileManager.default.createDirectory(atPath: root + "/data/empty", withIntermediateDirectories: true)
        let empty = try train(root, "empty")
        #expect(empty.status == 1 && empty.errors.contains("data/empty: empty class folder"))
        // Nothing readable.
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("kino-train-bad-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: bad) }
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(bad)/data/\(c)", withIntermediateDirectories: true)
            try TinyMedia.writeCorrupt(to: "\(bad)/data/\(c)/x.wav")
        }
        let none = try train(bad, "r")
        #expect(none.status == 1 && none.errors.contains("none of the 2 train files could be read"))
        #expect(!FileManager.default.fileExists(atPath: bad + "/r/adapter"))
    }
}

/// `kino train` on `metadata.csv` / `metadata.jsonl` sets, multi-label runs, and the frozen-prefix
/// feature cache.
@Suite(.timeLimit(.minutes(3))) struct TrainMetadataTests {
    typealias T = TrainCommandTests

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    func run(_ args: [String], length: [String] = ["--steps", "4"]) throws -> KinoBinary.Result {
        try KinoBinary.run(["train", "--model", T.ast, "--method", "lora", "--batch-size", "4", "--seed", "5"] + length + args)
    }

    @Test func aJSONLListingIsTheFolderLayoutAndBrokenListingsAreRefusedByRow() throws {
        let root = try T.dataset()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try run(["--data", root + "/data", "--no-shuffle", "-o", root + "/folder"])
        #expect(folder.status == 0, "\(folder.errors)")
        // The same files and labels as a JSONL listing in a flat copy: the same weights.
        let flat = root + "/flat"
        try FileManager.default.createDirectory(atPath: flat + "/clips", withIntermediateDirectories: true)
        var lines: [String] = []
        for c in ["high", "low"] {
            for i in 0..<4 {
                try FileManager.default.copyItem(atPath: "\(root)/data/\(c)/\(i).wav", toPath: "\(flat)/clips/\(c)-\(i).wav")
                lines.append("{\"file_name\": \"clips/\(c)-\(i).wav\", \"label\": \"\(c)\"}")
            }
        }
        try write(lines.joined(separator: "\n") + "\n", flat + "/metadata.jsonl")
        let listed = try run(["--data", flat, "--no-shuffle", "-o", root + "/listed"])
        #expect(listed.status == 0, "\(listed.errors)")
        #expect(listed.output.contains("8 training files in 2 classes (metadata.jsonl)"))
        let weights = "/adapter/adapter_model.safetensors"
        #expect(try bytes(root + "/folder" + weights) == bytes(root + "/listed" + weights))

        // A file listed but absent is skipped by name; a row without a label is an error naming it.
        try write(lines.joined(separator: "\n") + "\n{\"file_name\": \"clips/gone.wav\", \"label\": \"low\"}\n", flat + "/metadata.jsonl")
        let gone = try run(["--data", flat, "-o", root + "/gone"])
        #expect(gone.status == 0 && gone.errors.contains("skipping \(flat)/clips/gone.wav"), "\(gone.errors)")
        try write(lines.joined(separator: "\n") + "\n{\"file_name\": \"clips/high-0.wav\"}\n", flat + "/metadata.jsonl")
        let unlabelled = try run(["--data", flat, "-o", root + "/u"])
        #expect(unlabelled.status == 1 && unlabelled.errors.contains("metadata.jsonl line 9: clips/high-0.wav has no label"), "\(unlabelled.errors)")
        try FileManager.default.removeItem(atPath: flat + "/metadata.jsonl")
        try write("file_name,label\nclips/high-0.wav,high\nclips/low-0.wav,\n", flat + "/metadata.csv")
        let csv = try run(["--data", flat, "-o", root + "/c"])
        #expect(csv.status == 1 && csv.errors.contains("metadata.csv row 2: clips/low-0.wav has no label"), "\(csv.errors)")
        try write("name,label\nclips/high-0.wav,high\n", flat + "/metadata.csv")
        #expect(try run(["--data", flat, "-o", root + "/c"]).errors.contains("no file_name column"))
        // A validation label the training set lacks.
        try write("file_name,label\nclips/high-0.wav,high\nclips/low-0.wav,hum\n", flat + "/metadata.csv")
        let val = try run(["--data", root + "/data", "--val", flat, "-o", root + "/v"])
        #expect(val.status == 1 && val.errors.contains("clips/low-0.wav has label \"hum\", not one of the training labels (high, low)"), "\(val.errors)")
        for r in ["u", "c", "v"] { #expect(!FileManager.default.fileExists(atPath: "\(root)/\(r)/adapter")) }
    }

    @Test func severalLabelsOnAFileMakeAMultiLabelRunScoredByMeanAveragePrecision() throws {
        let root = try T.dataset()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Mixtures of both tones carry both labels (quoted, comma-separated, as FSD50K writes them).
        var rows = ["file_name,label"]
        for c in ["high", "low"] { for i in 0..<4 { rows.append("\(c)/\(i).wav,\(c)") } }
        try FileManager.default.createDirectory(atPath: root + "/data/mix", withIntermediateDirectories: true)
        for i in 0..<2 {
            // A tone between the two (the labels, not the sound, are what is under test).
            try TinyMedia.writeWAV(to: "\(root)/data/mix/\(i).wav", seconds: 0.8, sampleRate: 16000, frequency: 800 + 100 * Double(i))
            rows.append("mix/\(i).wav,\"high, low\"")
        }
        try write(rows.joined(separator: "\n") + "\n", root + "/data/metadata.csv")
        let r = try run(["--data", root + "/data", "--val", root + "/data", "--lr", "0.02", "-o", root + "/m"], length: ["--epochs", "2"])
        #expect(r.status == 0, "\(r.errors)")
        #expect(r.output.contains("10 training files in 2 classes (metadata.csv, multi-label)"))
        #expect(r.output.contains("validation mAP"))
        let metrics = try #require(try JSONSerialization.jsonObject(with: bytes(root + "/m/metrics.json")) as? [String: Any])
        let epochs = try #require(metrics["epochs"] as? [[String: Any]])
        #expect(epochs.count == 2)
        let map = try #require(epochs[1]["val_map"] as? Double)
        #expect(map >= 0.9 && map <= 1, "\(map)")
        #expect((epochs[1]["val_ap"] as? [Double])?.count == 2)
        #expect(epochs[1]["val_micro_f1"] is Double && epochs[1]["confusion"] == nil)
        // The adapter keeps sigmoid scoring: classify gives independent probabilities.
        let info = try KinoBinary.run(["model", "info", T.ast, "--adapter", root + "/m/adapter"])
        #expect(info.status == 0 && info.output.contains("sigmoid"), "\(info.output)")
    }

    @Test func aLinearProbeRunsFromCachedFeaturesWithTheSameLossesAsTheWholeModel() throws {
        let root = try T.dataset()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let common = ["--data", root + "/data", "--method", "linear", "--no-augment", "--val-split", "0.25"]
        let cached = try run(common + ["-o", root + "/cached"])
        #expect(cached.status == 0, "\(cached.errors)")
        #expect(cached.output.contains("frozen prefix: everything before the head cut ran once per file"))
        #expect(FileManager.default.fileExists(atPath: root + "/cached/cache/train-head.safetensors"))
        let whole = try run(common + ["--no-feature-cache", "-o", root + "/whole"])
        #expect(whole.status == 0 && !whole.output.contains("frozen prefix"), "\(whole.errors)")
        func losses(_ run: String) throws -> [Double] {
            try String(contentsOfFile: root + "/" + run + "/train-log.jsonl", encoding: .utf8).split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["loss"] as! Double
            }
        }
        let (a, b) = (try losses("cached"), try losses("whole"))
        #expect(a.count == 4 && b.count == 4)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5 * max(1, abs(y)), "\(a) vs \(b)") }
        // Resuming reads the features back instead of recomputing them, and finishes the run.
        try FileManager.default.removeItem(atPath: root + "/cached/checkpoint-000004")
        let resumed = try run(common + ["--resume", "-o", root + "/cached"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        #expect(try losses("cached").count == 4 + 2)
    }
}

@Suite(.timeLimit(.minutes(2))) struct TrainLossCurveTests {
    @Test func fiveAdamWStepsFollowPyTorchsLossCurve() throws {
        let fixture = "\(Repository.root)/Tests/KinoCLITests/Fixtures/train-tiny"
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("kino-curve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: run) }
        let r = try KinoBinary.run(["train", "--model", TrainCommandTests.ast, "--data", fixture + "/data", "--method", "lora",
                                    "--steps", "5", "--batch-size", "4", "--no-shuffle", "--no-augment", "-o", run])
        #expect(r.status == 0, "\(r.errors)")
        let reference = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: fixture + "/torch-losses.json"))) as? [String: Any])
        let torch = try #require(reference["torch_losses"] as? [Double])
        let kino = try String(contentsOfFile: run + "/train-log.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["loss"] as! Double
        }
        #expect(kino.count == 5 && torch.count == 5)
        for (k, t) in zip(kino, torch) { #expect(abs(k - t) <= 1e-3 * abs(t), "kino \(k) torch \(t)") }
    }
}
