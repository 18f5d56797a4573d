import Foundation
import KinoTensor
import KinoTestSupport
import Testing

/// `kino model grad` as a user runs it, against the torch goldens of tools/make-grad-fixtures.py.
@Suite(.timeLimit(.minutes(2))) struct ModelGradCommandTests {
    static let fixtures = "\(Repository.root)/Tests/KinoModelsTests/Fixtures"

    @Test("kino model grad writes the loss and every gradient, matching torch")
    func matchesTorch() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grad-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try KinoBinary.run(["model", "grad", "--model", "\(Self.fixtures)/ast-a",
                                    "--input", "\(Self.fixtures)/ast-a/reference.safetensors", "--labels", "0,1", "--output", out])
        #expect(r.status == 0, "\(r.errors)")
        let got = try SafeTensorsFile(path: out)
        let golden = try SafeTensorsFile(path: "\(Self.fixtures)/ast-a/gradients.safetensors")
        #expect(Set(got.names) == Set(golden.names))
        #expect(abs(try got.tensor("loss").storage[0] - golden.tensor("loss").storage[0]) < 1e-5)
        let g = try got.tensor("grad.audio_spectrogram_transformer.encoder.layer.1.output.dense.weight")
        let e = try golden.tensor("grad.audio_spectrogram_transformer.encoder.layer.1.output.dense.weight")
        #expect(g.maxAbsDifference(e) <= 1e-4 * e.storage.map(abs).max()!)
        let gi = try got.tensor("grad.input_values"), ei = try golden.tensor("grad.input_values")
        #expect(gi.maxAbsDifference(ei) <= 1e-4 * ei.storage.map(abs).max()!)
    }

    @Test("wrong labels are refused with a message naming them")
    func badLabels() throws {
        let r = try KinoBinary.run(["model", "grad", "--model", "\(Self.fixtures)/ast-a",
                                    "--input", "\(Self.fixtures)/ast-a/reference.safetensors", "--labels", "0,9",
                                    "--output", "/tmp/unused.safetensors"])
        #expect(r.status != 0)
        #expect(r.errors.contains("\"9\""))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/unused.safetensors"))
    }
}
