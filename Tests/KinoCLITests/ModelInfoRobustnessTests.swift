import Foundation
import Testing
import KinoTestSupport

/// `kino model info` on crafted model folders: every one must end in a clear error (non-zero exit,
/// the file and the field named), never a crash, a huge allocation or a hang. Run as a child
/// process so that a regression fails its test instead of taking the test runner down.
@Suite(.timeLimit(.minutes(2))) struct ModelInfoRobustnessTests {
    static let fixtures = "\(Repository.root)/Tests/KinoModelsTests/Fixtures"

    /// A copy of fixture `name`'s weights with its config.json edited by `edit`.
    func folder(from name: String, _ edit: (inout [String: Any]) -> Void) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("kino-model-info")
        try FileManager.default.copyItem(atPath: "\(Self.fixtures)/\(name)/model.safetensors",
                                         toPath: dir.file("model.safetensors"))
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/\(name)/config.json"))
        var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir.file("config.json")))
        return dir
    }

    /// Runs `kino model info` on `dir` and checks it failed cleanly, naming every one of `words`.
    func expectCleanFailure(_ dir: TemporaryDirectory, naming words: [String],
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try KinoBinary.run(["model", "info", dir.path], timeout: 30)
        #expect(!r.timedOut, "kino model info hung", sourceLocation: sourceLocation)
        #expect(r.exited && r.status == 1, "status \(r.status), stderr: \(r.errors)", sourceLocation: sourceLocation)
        for word in words {
            #expect(r.errors.contains(word), "stderr does not name \(word): \(r.errors)", sourceLocation: sourceLocation)
        }
    }

    @Test func aTrillionLayersIsRefusedBeforeAllocating() throws {
        let dir = try folder(from: "vit-a") { $0["num_hidden_layers"] = 1_000_000_000_000 }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", "num_hidden_layers"])
    }

    @Test func moreLayersThanTheCheckpointHasNamesTheField() throws {
        let dir = try folder(from: "vit-a") { $0["num_hidden_layers"] = 3 }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", "num_hidden_layers"])
    }

    @Test(arguments: ["100000000000", "9223372036854775807", "-1", "one"])
    func anId2labelKeyOutsideTheHeadIsRefused(key: String) throws {
        let dir = try folder(from: "vit-a") { config in
            var labels = config["id2label"] as? [String: Any] ?? [:]
            labels[key] = "far away"
            config["id2label"] = labels
        }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", "id2label"])
    }

    @Test func aHugeImageWithUnitPatchesDoesNotOverflow() throws {
        let dir = try folder(from: "vit-a") { $0["image_size"] = 1 << 40; $0["patch_size"] = 1 }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", "image_size"])
    }

    @Test(arguments: ["time_stride", "frequency_stride"])
    func aZeroASTStrideIsRefused(field: String) throws {
        let dir = try folder(from: "ast-a") { $0[field] = 0 }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", field])
    }

    @Test func anOverflowingViViTGridIsRefused() throws {
        let dir = try folder(from: "vivit-a") {
            $0["image_size"] = 1 << 31; $0["num_frames"] = 1 << 31; $0["tubelet_size"] = [1, 1, 1]
        }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", "image_size"])
    }

    @Test func anOverflowingFactorisedGridIsRefused() throws {
        let dir = try folder(from: "fe-a") {
            $0["image_size"] = 1 << 32; $0["num_frames"] = 4; $0["tubelet_size"] = [1, 1, 1]
        }
        defer { dir.cleanup() }
        try expectCleanFailure(dir, naming: ["config.json", "image_size"])
    }

    @Test func aNegativeLabelCountIsAUsageError() throws {
        let r = try KinoBinary.run(["model", "info", "\(Self.fixtures)/vit-a", "--labels=-1"], timeout: 30)
        #expect(r.exited && r.status != 0 && r.errors.contains("--labels"), "status \(r.status): \(r.errors)")
    }

    @Test func aFIFOForWeightsIsRefusedWithoutHanging() throws {
        let dir = try folder(from: "vit-a") { _ in }
        defer { dir.cleanup() }
        try FileManager.default.removeItem(atPath: dir.file("model.safetensors"))
        #expect(mkfifo(dir.file("model.safetensors"), 0o644) == 0)
        try expectCleanFailure(dir, naming: ["model.safetensors", "not a regular file"])
    }

    @Test func aFIFOForTheConfigIsCalledWhatItIs() throws {
        let dir = try folder(from: "vit-a") { _ in }
        defer { dir.cleanup() }
        try FileManager.default.removeItem(atPath: dir.file("config.json"))
        #expect(mkfifo(dir.file("config.json"), 0o644) == 0)
        try expectCleanFailure(dir, naming: ["config.json", "not a regular file"])
    }

    @Test func aDirectoryForTheConfigIsCalledWhatItIs() throws {
        let dir = try folder(from: "vit-a") { _ in }
        defer { dir.cleanup() }
        try FileManager.default.removeItem(atPath: dir.file("config.json"))
        try FileManager.default.createDirectory(atPath: dir.file("config.json"), withIntermediateDirectories: false)
        try expectCleanFailure(dir, naming: ["config.json", "not a regular file"])
    }
}
