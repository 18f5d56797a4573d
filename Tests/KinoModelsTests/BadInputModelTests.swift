import Foundation
import Testing
import KinoModels
import KinoTensor

@Suite struct BadModelInputTests {
    @Test(arguments: ["vit-a", "vivit-a", "ast-a", "videomae-a", "timesformer-a"])
    func nanAndWrongRankAreClearErrors(fixture: String) throws {
        let model = try ModelRegistry.load(directory: Fixtures.directory(fixture))
        let shape = [1] + model.sampleShape
        var values = [Float](repeating: 0.1, count: shape.reduce(1, *))
        values[7] = .nan
        do {
            _ = try model(Tensor(shape: shape, values: values))
            Issue.record("a NaN input was accepted")
        } catch let error as ModelError {
            guard case .nonFiniteInput(_, let index, let value) = error else { Issue.record("wrong error \(error)"); return }
            #expect(index == 7 && value.isNaN)
            #expect(error.localizedDescription.contains("must be finite"))
        }
        values[7] = .infinity
        #expect(throws: ModelError.self) { try model(Tensor(shape: shape, values: values)) }
        // Wrong rank: the sample without its batch dimension.
        let noBatch = Array(shape.dropFirst())
        #expect(throws: ModelError.inputShape(name: model.inputName, expected: "[B] + \(model.sampleShape)", found: noBatch)) {
            try model(Tensor(shape: noBatch, values: [Float](repeating: 0, count: noBatch.reduce(1, *))))
        }
    }
}
