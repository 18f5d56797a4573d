import Foundation
import KinoFiles

/// Writes Float32 tensors as a safetensors file readable by the Python `safetensors` package.
public enum SafeTensorsWriter {
    /// Writes `tensors` (F32, names sorted, data packed in that order) and optional metadata.
    ///
    /// The header is padded with spaces to a multiple of 8 bytes so the data section is aligned,
    /// as the reference writer does. The file is written to a temporary name and renamed.
    /// - Throws: ``SafeTensorsError/writeFailed(path:reason:)``.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        let names = tensors.keys.sorted()
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * 4
            fields.append("\(quote(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                          + "\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for name in names {
            tensors[name]!.storage.withUnsafeBufferPointer { p in
                // Float32 is stored little-endian; every platform Kino targets already is.
                data.append(UnsafeBufferPointer(start: p.baseAddress, count: p.count))
            }
        }
        do {
            try AtomicFile.write(data, to: path)
        } catch let error as FileError {
            throw SafeTensorsError.writeFailed(path: path, reason: error.cause)
        } catch {
            throw SafeTensorsError.writeFailed(path: path, reason: plainDescription(of: error))
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
