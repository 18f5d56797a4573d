import Foundation
import Testing
import KinoTestSupport

/// Replays every input the fuzz targets (Fuzz/) ever found, and the hand-made cases of the same
/// bugs, through the `kino` command that target stands for. Each must end cleanly within the
/// timeout: exit status 0, or another status with a message on stderr (1 for errors, 3 for
/// damaged media); never a signal or a hang. Child processes, so a regression fails its own test
/// instead of taking the runner down. Needs no fuzzer build.
@Suite(.timeLimit(.minutes(5))) struct FuzzRegressionTests {
    static let folder = "\(Repository.root)/Tests/KinoCLITests/Fixtures/fuzz-regressions"
    static let modelFixtures = "\(Repository.root)/Tests/KinoModelsTests/Fixtures"

    /// The inputs kept for `target`, as paths (README files aside).
    static func inputs(_ target: String) -> [String] {
        let dir = folder + "/" + target
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { dir + "/" + $0 }
    }

    static let targets = ["safetensors", "model-config", "pipeline", "probe", "decode"]

    /// Runs `arguments` and checks the run ended cleanly.
    func expectClean(_ arguments: [String], input: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try KinoBinary.run(arguments, timeout: 30)
        let what = "kino \(arguments.prefix(2).joined(separator: " ")) on \(input)"
        #expect(!r.timedOut, "\(what) hung", sourceLocation: sourceLocation)
        #expect(r.exited, "\(what) died by a signal (status \(r.status)): \(r.errors.suffix(2000))",
                sourceLocation: sourceLocation)
        if r.exited && r.status != 0 {
            #expect(!r.errors.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "\(what) exited \(r.status) without saying why", sourceLocation: sourceLocation)
        }
    }

    /// A model folder holding `config` and `weights`, laid out as `kino model info` reads it.
    func modelFolder(config: String, weights: String) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("kino-fuzz-replay")
        try FileManager.default.copyItem(atPath: config, toPath: dir.file("config.json"))
        try FileManager.default.copyItem(atPath: weights, toPath: dir.file("model.safetensors"))
        return dir
    }

    @Test func everyTargetHasAFolder() {
        for target in Self.targets {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: Self.folder + "/" + target, isDirectory: &isDirectory)
                    && isDirectory.boolValue, "no regression folder for \(target)")
        }
    }

    @Test(arguments: inputs("safetensors"))
    func safetensors(_ input: String) throws {
        let dir = try modelFolder(config: Self.modelFixtures + "/vit-a/config.json", weights: input)
        defer { dir.cleanup() }
        try expectClean(["model", "info", dir.path], input: input)
    }

    @Test(arguments: inputs("model-config"))
    func modelConfig(_ input: String) throws {
        // The weights of the fixture the config's model_type names, as the fuzz target sets it up.
        let fixtures = ["vit": "vit-a", "vivit": "vivit-a", "audio-spectrogram-transformer": "ast-a",
                        "vivit-factorised-encoder": "fe-a"]
        let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: input))) as? [String: Any]
        let fixture = (object?["model_type"] as? String).flatMap { fixtures[$0] } ?? "vit-a"
        let dir = try modelFolder(config: input, weights: "\(Self.modelFixtures)/\(fixture)/model.safetensors")
        defer { dir.cleanup() }
        try expectClean(["model", "info", dir.path], input: input)
    }

    @Test(arguments: inputs("pipeline"))
    func pipeline(_ input: String) throws {
        let dir = TemporaryDirectory("kino-fuzz-replay")
        defer { dir.cleanup() }
        try FileManager.default.copyItem(atPath: input, toPath: dir.file("pipeline.yaml"))
        try expectClean(["pipeline", "check", dir.file("pipeline.yaml")], input: input)
    }

    @Test(arguments: inputs("probe"))
    func probe(_ input: String) throws {
        try expectClean(["probe", input], input: input)
        try expectClean(["probe", "--json", input], input: input)
    }

    @Test(arguments: inputs("decode"))
    func decode(_ input: String) throws {
        let dir = TemporaryDirectory("kino-fuzz-replay")
        defer { dir.cleanup() }
        try expectClean(["frames", input, "--count", "4", "--size", "32x24", "--threads", "1", "-o", dir.file("frames")], input: input)
        try expectClean(["spectrogram", input, "-o", dir.file("s.npy")], input: input)
    }
}
