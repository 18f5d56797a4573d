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
        #expect(one.status == 1 && one.errors.contains("1 class folder (high)"))
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
