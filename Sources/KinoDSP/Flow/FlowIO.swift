import Foundation
import KinoFiles

/// Flow file formats: Middlebury/Sintel `.flo`, and KITTI's 16-bit packing (the PNG container is
/// left to an image writer; this produces and reads the 3-channel UInt16 pixels).
extension FlowField {
    /// `.flo` tag: the float 202021.25, whose little-endian bytes spell "PIEH".
    public static let floTag: Float = 202021.25
    /// Values above this mean "unknown" in `.flo` files; writers use 1e10.
    public static let unknownThreshold: Float = 1e9

    /// Encodes as a `.flo` file: tag, width, height (little-endian), then u, v per pixel row by row.
    public func floData() -> Data {
        var data = Data(capacity: 12 + uv.count * 4)
        func append32(_ bits: UInt32) { withUnsafeBytes(of: bits.littleEndian) { data.append(contentsOf: $0) } }
        append32(FlowField.floTag.bitPattern)
        append32(UInt32(width))
        append32(UInt32(height))
        for value in uv { append32(value.bitPattern) }
        return data
    }

    /// Decodes a `.flo` file body.
    ///
    /// - Throws: ``FlowError/badFlowFile(_:)`` on a wrong tag, a negative or huge size, or truncation.
    public init(floData data: Data) throws {
        guard data.count >= 12 else { throw FlowError.badFlowFile("\(data.count) bytes, shorter than the 12-byte header") }
        func word(_ i: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(data[data.startIndex + i * 4 + k]) << (8 * k) }
            return v
        }
        guard Float(bitPattern: word(0)) == FlowField.floTag else { throw FlowError.badFlowFile("missing PIEH tag") }
        let w = Int(Int32(bitPattern: word(1))), h = Int(Int32(bitPattern: word(2)))
        guard w >= 0, h >= 0, w < 1 << 16, h < 1 << 16 else { throw FlowError.badFlowFile("impossible size \(w)×\(h)") }
        guard data.count >= 12 + w * h * 8 else {
            throw FlowError.badFlowFile("truncated: \(data.count) bytes for \(w)×\(h)")
        }
        var values = [Float](repeating: 0, count: w * h * 2)
        for i in 0..<values.count { values[i] = Float(bitPattern: word(3 + i)) }
        try self.init(width: w, height: h, uv: values)
    }

    /// Writes a `.flo` file.
    ///
    /// - Throws: the file system's error.
    public func writeFlo(to url: URL) throws { try AtomicFile.write(floData(), to: url.path) }

    /// Reads a `.flo` file.
    ///
    /// - Throws: the file system's error or ``FlowError/badFlowFile(_:)``.
    public init(contentsOfFlo url: URL) throws { try self.init(floData: try Data(contentsOf: url)) }

    /// KITTI packing: 3 × UInt16 per pixel in R, G, B order, `R = u·64 + 2¹⁵`, `G = v·64 + 2¹⁵`,
    /// `B = 1` for valid pixels. Values are rounded to 1/64 px and clamped to ±512 px; pixels that
    /// are unknown (non-finite or above ``unknownThreshold``) or not `valid` are written as 0, 0, 0.
    public func kittiPacked(valid: [Bool]? = nil) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let u = uv[2 * i], v = uv[2 * i + 1]
            guard valid?[i] ?? true, u.isFinite, v.isFinite, abs(u) < FlowField.unknownThreshold,
                  abs(v) < FlowField.unknownThreshold else { continue }
            func pack(_ x: Float) -> UInt16 { UInt16(min(max((x * 64 + 32768).rounded(), 0), 65535)) }
            out[3 * i] = pack(u)
            out[3 * i + 1] = pack(v)
            out[3 * i + 2] = 1
        }
        return out
    }

    /// Big-endian bytes of ``kittiPacked(valid:)``, the sample order a 16-bit RGB PNG stores.
    public func kittiPNGSamples(valid: [Bool]? = nil) -> [UInt8] {
        kittiPacked(valid: valid).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Decodes KITTI-packed RGB UInt16 pixels; returns the flow (invalid pixels hold 0) and the valid mask.
    ///
    /// - Throws: ``FlowError/badFlowFile(_:)`` when the sample count does not match the size.
    public static func kittiUnpacked(_ samples: [UInt16], width: Int, height: Int) throws -> (flow: FlowField, valid: [Bool]) {
        guard width >= 0, height >= 0, samples.count == width * height * 3 else {
            throw FlowError.badFlowFile("\(samples.count) KITTI samples for \(width)×\(height)×3")
        }
        var flow = FlowField(width: width, height: height)
        var valid = [Bool](repeating: false, count: width * height)
        for i in 0..<(width * height) where samples[3 * i + 2] != 0 {
            valid[i] = true
            flow.uv[2 * i] = (Float(samples[3 * i]) - 32768) / 64
            flow.uv[2 * i + 1] = (Float(samples[3 * i + 1]) - 32768) / 64
        }
        return (flow, valid)
    }
}
