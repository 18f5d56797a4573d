import Foundation
import KinoFiles

/// Reads and writes NumPy `.npy` files (format version 1.0) holding little-endian Float32 arrays.
///
/// Enough of the format for Kino's outputs: C-order `<f4` arrays of any rank. `numpy.load` reads
/// what this writes, and this reads what `numpy.save` writes for float32 arrays.
public enum NumpyFile {
    /// Encodes `values` with `shape` as `.npy` bytes.
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the value count")
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        return data
    }

    /// Writes a `[frames, bins]` matrix to `path` atomically.
    public static func write(_ matrix: FeatureMatrix, to path: String) throws {
        try AtomicFile.write(encode(matrix.values, shape: [matrix.frames, matrix.bins]), to: path)
    }

    /// Decodes `.npy` bytes holding a little-endian float32 C-order array.
    /// - Throws: `DSPError.invalidOption` naming what is wrong with the file.
    public static func decode(_ data: Data) throws -> (values: [Float], shape: [Int]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw DSPError.invalidOption(name: "npy", value: "\(bytes.count) bytes", reason: "not a .npy file")
        }
        let major = bytes[6]
        let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = major == 1 ? 10 : 12
        guard start + headerLength <= bytes.count,
              let header = String(bytes: bytes[start..<start + headerLength], encoding: .ascii) else {
            throw DSPError.invalidOption(name: "npy", value: "header", reason: "truncated header")
        }
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw DSPError.invalidOption(name: "npy", value: header, reason: "only little-endian float32 C-order arrays are supported")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = start + headerLength
        guard bytes.count - body == count * 4 else {
            throw DSPError.invalidOption(name: "npy", value: "\(bytes.count - body) bytes", reason: "expected \(count * 4) bytes of data for shape \(shape)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[body..<body + count * 4])) }
        }
        return (values, shape)
    }
}
