import Foundation
import Testing
import KinoDSP

/// File formats, colour coding, grey conversion and statistics: exact values, no tolerances.
@Suite struct FlowFormatTests {
    static func sampleField() -> FlowField {
        var f = FlowField(width: 5, height: 3)
        for y in 0..<3 { for x in 0..<5 { f[x, y] = SIMD2(Float(x) * 1.25 - 3, Float(y) * -0.5 + 0.015625) } }
        f[4, 2] = SIMD2(1e10, 1e10)   // unknown
        return f
    }

    @Test func floRoundTripIsExact() throws {
        let f = Self.sampleField()
        let data = f.floData()
        #expect(data.count == 12 + 5 * 3 * 8)
        #expect(Array(data.prefix(4)) == Array("PIEH".utf8))
        #expect(try FlowField(floData: data) == f)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kino-flow-\(UUID()).flo")
        defer { try? FileManager.default.removeItem(at: url) }
        try f.writeFlo(to: url)
        #expect(try FlowField(contentsOfFlo: url) == f)
    }

    @Test func floRejectsBadInput() {
        #expect(throws: FlowError.self) { try FlowField(floData: Data([1, 2, 3])) }
        var bad = Self.sampleField().floData()
        bad[0] = 0
        #expect(throws: FlowError.self) { try FlowField(floData: bad) }
        #expect(throws: FlowError.self) { try FlowField(floData: Self.sampleField().floData().dropLast(4)) }
    }

    @Test func kittiRoundTripIsExactOnTheSixtyFourthGrid() throws {
        let f = Self.sampleField()
        let packed = f.kittiPacked()
        #expect(packed[0] == UInt16(32768 - 3 * 64) && packed[1] == UInt16(32768 + 1) && packed[2] == 1)
        #expect(Array(packed[(3 * 14)..<(3 * 15)]) == [0, 0, 0])   // unknown → invalid
        let (back, valid) = try FlowField.kittiUnpacked(packed, width: 5, height: 3)
        #expect(valid.filter { !$0 }.count == 1 && !valid[14])
        for i in 0..<14 { #expect(back.uv[2 * i] == f.uv[2 * i] && back.uv[2 * i + 1] == f.uv[2 * i + 1]) }
        #expect(try FlowField.kittiUnpacked(back.kittiPacked(valid: valid), width: 5, height: 3).flow == back)
        let bytes = f.kittiPNGSamples()
        #expect(bytes.count == 5 * 3 * 6 && bytes[0] == UInt8(packed[0] >> 8) && bytes[1] == UInt8(packed[0] & 0xFF))
        #expect(throws: FlowError.self) { try FlowField.kittiUnpacked([1, 2], width: 5, height: 3) }
    }

    @Test func colourWheelKnownValues() {
        #expect(FlowColor.wheel.count == 55)
        #expect(FlowColor.color(u: 0, v: 0) == SIMD3(255, 255, 255))        // no motion: white
        #expect(FlowColor.color(u: 1, v: 0) == SIMD3(255, 0, 0))            // right: red
        #expect(FlowColor.color(u: -1, v: 0) == SIMD3(0, 209, 255))          // left: wheel[27], cyan-blue
        #expect(FlowColor.color(u: 2, v: 0) == SIMD3(191, 0, 0))            // beyond the radius: ×0.75
        #expect(FlowColor.color(u: 0.5, v: 0) == SIMD3(255, 127, 127))      // half speed: half saturated
        #expect(FlowColor.color(u: .nan, v: 0) == SIMD3(0, 0, 0))           // unknown: black
        var f = FlowField(width: 2, height: 1)
        f[1, 0] = SIMD2(4, 0)
        #expect(FlowColor.render(f) == [255, 255, 255, 255, 0, 0])
        #expect(FlowColor.render(f, maxRadius: 8) == [255, 255, 255, 255, 127, 127])   // fixed scale
        let legend = FlowColor.legend(size: 9)
        #expect(legend.count == 243 && Array(legend[(3 * 40)..<(3 * 41)]) == [255, 255, 255])
        #expect(Array(legend[(3 * 44)..<(3 * 45)]) == [255, 0, 0])   // right edge of the middle row
    }

    @Test func greyConversionMatchesOpenCV() throws {
        // tools/.venv-flow: cv2.cvtColor(rng.integers(0,256,(2,4,3),uint8) with seed 3, COLOR_BGR2GRAY)
        let bgr: [UInt8] = [248, 194, 190, 207, 147, 26, 237, 21, 245, 211, 239, 45,
                            5, 157, 159, 60, 54, 236, 109, 46, 199, 82, 32, 205]
        let grey = try GrayImage(interleaved: bgr, width: 4, height: 2, order: .bgr)
        #expect(grey.pixels == [199, 118, 113, 178, 140, 109, 99, 89])
        #expect(throws: FlowError.self) { try GrayImage(interleaved: bgr, width: 5, height: 2, order: .bgr) }
    }

    @Test func statisticsOfAKnownField() throws {
        var f = FlowField(width: 10, height: 10)
        for i in 0..<30 { f.uv[2 * i] = 0; f.uv[2 * i + 1] = 3 }   // 30 % move down at 3 px
        let s = MotionStatistics(f)
        #expect(s.movingFraction == 0.3 && s.dominantDirection == 95 && abs(s.meanMagnitude - 0.9) < 1e-6)
        #expect(s.p95Magnitude == 3)
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(MotionStatistics.self, from: json) == s)
        #expect(MotionStatistics(FlowField(width: 4, height: 4)).dominantDirection == nil)
    }
}
