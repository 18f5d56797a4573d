import Foundation
import Testing
@testable import KinoDSP

@Suite struct ColorMapTests {
    @Test(arguments: ["viridis", "magma"])
    func tableMatchesMatplotlib(name: String) throws {
        let map = name == "viridis" ? ColorMap.viridis : ColorMap.magma
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("colormap_\(name).u8"))
        let reference = [UInt8](data)
        #expect(reference.count == 768 && map.table.count == 768)
        let errors = zip(map.table, reference).map { abs(Int($0) - Int($1)) }
        let mean = Double(errors.reduce(0, +)) / Double(errors.count)
        print("colormap \(name): max |Δ| \(errors.max()!) / 255, mean \(mean)")
        #expect(errors.max()! <= 4)
        #expect(mean <= 0.2)
    }

    @Test func endsAreTheAnchors() {
        #expect(ColorMap.viridis.color(at: 0) == (68, 1, 84))
        #expect(ColorMap.viridis.color(at: 1) == (253, 231, 37))
        #expect(ColorMap.viridis.color(at: .nan) == (68, 1, 84))
        #expect(ColorMap.magma.color(at: -3) == ColorMap.magma.color(at: 0))
    }

    @Test func renderPutsTimeLeftToRightAndLowFrequencyAtTheBottom() {
        // 3 frames × 2 bins; the loudest value is frame 2, bin 0 (late, low).
        let matrix = FeatureMatrix(frames: 3, bins: 2, values: [0, 0.5, 0, 0.5, 1, 0.5])
        let image = ColorMap.viridis.render(matrix)
        #expect(image.width == 3 && image.height == 2 && image.pixels.count == 18)
        #expect(image[2, 1] == ColorMap.viridis.color(at: 1))      // bottom-right
        #expect(image[0, 1] == ColorMap.viridis.color(at: 0))      // bottom-left
        #expect(image[0, 0] == ColorMap.viridis.color(at: 0.5))    // top-left: bin 1 of frame 0
        let constant = ColorMap.magma.render(FeatureMatrix(frames: 2, bins: 2, repeating: 7))
        #expect(constant.pixels == ColorMap.magma.render(FeatureMatrix(frames: 2, bins: 2, repeating: 0)).pixels)
        let clamped = ColorMap.viridis.render(matrix, range: -10...(-5))
        #expect(clamped[0, 0] == ColorMap.viridis.color(at: 1))
    }
}
