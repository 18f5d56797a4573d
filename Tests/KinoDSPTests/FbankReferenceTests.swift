import Foundation
import Testing
@testable import KinoDSP

/// Kino against torchaudio.compliance.kaldi.fbank and transformers' ASTFeatureExtractor.
@Suite struct FbankReferenceTests {
    @Test(arguments: Fixtures.cases(kind: "fbank"))
    func matchesTorchaudio(_ reference: Fixtures.Case) throws {
        let options = reference.options.fbank
        let fbank = try KaldiFbank(options: options)
        let got = fbank.compute(Fixtures.input(reference.input))
        let want = Fixtures.floats(reference.file)
        #expect([got.frames, got.bins] == reference.shape)
        guard got.values.count == want.count else { return }
        // Linear energies are compared in the log domain, where the tolerances are stated.
        let logged: ([Float]) -> [Float] = { options.useLogFbank ? $0 : $0.map { log(max($0, Float.ulpOfOne)) } }
        let d = differences(logged(got.values), logged(want))
        print("fbank \(reference.name): " + String(format: "mean |Δ| %.2e, max |Δ| %.2e", d.mean, d.max))
        #expect(d.mean <= 1e-4)
        #expect(d.max <= 2e-3)
        #expect(!got.values.contains { $0.isNaN })
    }

    @Test(arguments: Fixtures.cases(kind: "ast"))
    func matchesASTFeatureExtractor(_ reference: Fixtures.Case) throws {
        var options = ASTFeatureExtractor.Options()
        options.maxLength = reference.options.max_length ?? 1024
        let extractor = try ASTFeatureExtractor(options: options)
        let got = extractor.extract(Fixtures.input(reference.input))
        let want = Fixtures.floats(reference.file)
        #expect([got.frames, got.bins] == reference.shape)
        let d = differences(got.values, want)
        print("ast \(reference.name): " + String(format: "mean |Δ| %.2e, max |Δ| %.2e", d.mean, d.max))
        #expect(d.mean <= 1e-4)
        #expect(d.max <= 2e-3)
    }
}
