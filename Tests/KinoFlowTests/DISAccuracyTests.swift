import Testing
import KinoDSP

/// Kino's DIS against OpenCV's on synthetic pairs with exact ground truth, per preset and scene.
///
/// Gate: Kino's EPE ≤ 1.05 × OpenCV's + 0.01 px on every scene (the absolute slack covers scenes
/// where both are near zero and a few hundredths of a pixel is noise).
@Suite struct DISAccuracyTests {
    static let cases: [(String, DISOptions.Preset)] = FlowFixture.sceneNames.flatMap { scene in
        DISOptions.Preset.allCases.map { (scene, $0) }
    }

    @Test(arguments: cases)
    func matchesOpenCV(scene: String, preset: DISOptions.Preset) throws {
        let f = try FlowFixture.load(scene)
        let session = try FlowSession(width: f.i0.width, height: f.i0.height, options: .preset(preset))
        let flow = try session.flow(from: f.i0, to: f.i1)
        let epe = flow.endPointError(to: f.truth, valid: f.valid)
        let opencv = f.reference[preset.rawValue]!
        print("EPE \(scene) \(preset): kino \(epe) opencv \(opencv)")
        #expect(epe <= 1.05 * opencv + 0.01, "\(scene) \(preset): Kino \(epe) vs OpenCV \(opencv)")
    }
}
