import Foundation
import KinoTensor
import Testing

@Suite("safetensors reader and writer")
struct SafeTensorsTests {
    /// A file of `header` (JSON text) and `data` bytes, with the length field as given.
    static func file(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) throws -> String {
        let json = Array(header.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += json + data
        let path = try Fixtures.temporaryDirectory() + "/t.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func entry(_ dtype: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
        "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    /// Header cases and the error each must produce.
    static let malformed: [(String, String, [UInt8], UInt64?, @Sendable (SafeTensorsError) -> Bool)] = [
        ("length zero", "{}", [], 0, { if case .headerLength = $0 { true } else { false } }),
        ("length past the end", "{}", [], 4096, { if case .headerLength = $0 { true } else { false } }),
        ("length above the 100 MB cap", "{}", [], 200_000_000, { if case .headerLength = $0 { true } else { false } }),
        ("not JSON", "{\"a\":", [], nil, { if case .headerNotJSON = $0 { true } else { false } }),
        ("not an object", "[1,2]", [], nil, { if case .headerNotJSON = $0 { true } else { false } }),
        ("metadata not strings", "{\"__metadata__\":{\"a\":1}}", [], nil,
         { if case .headerNotJSON = $0 { true } else { false } }),
        ("entry not an object", "{\"w\":3}", [], nil, { if case .malformedEntry = $0 { true } else { false } }),
        ("missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", [0, 0, 0, 0], nil,
         { if case .malformedEntry = $0 { true } else { false } }),
        ("unknown dtype", "{\"w\":\(entry("F7", "[1]", 0, 4))}", [0, 0, 0, 0], nil,
         { if case .unknownDType(_, "w", "F7") = $0 { true } else { false } }),
        ("negative dimension", "{\"w\":\(entry("F32", "[-1]", 0, 4))}", [0, 0, 0, 0], nil,
         { if case .malformedEntry = $0 { true } else { false } }),
        ("fractional dimension", "{\"w\":\(entry("F32", "[1.5]", 0, 4))}", [0, 0, 0, 0], nil,
         { if case .malformedEntry = $0 { true } else { false } }),
        ("offsets not a pair", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", [0, 0, 0, 0], nil,
         { if case .malformedEntry = $0 { true } else { false } }),
        ("offsets past the data", "{\"w\":\(entry("F32", "[2]", 0, 8))}", [0, 0, 0, 0], nil,
         { if case .offsetsOutOfBounds(_, "w", 0, 8, 4) = $0 { true } else { false } }),
        ("offsets reversed", "{\"w\":\(entry("F32", "[0]", 4, 0))}", [0, 0, 0, 0], nil,
         { if case .offsetsOutOfBounds = $0 { true } else { false } }),
        ("span not shape × dtype", "{\"w\":\(entry("F32", "[2,2]", 0, 8))}", [UInt8](repeating: 0, count: 8), nil,
         { if case .sizeMismatch(_, "w", [2, 2], "F32", 16, 8) = $0 { true } else { false } }),
        ("shape product overflows", "{\"w\":\(entry("F32", "[4294967296,4294967296,16]", 0, 4))}", [0, 0, 0, 0], nil,
         { if case .malformedEntry(_, "w", let reason) = $0 { reason.contains("overflows") } else { false } }),
        ("element count × dtype size overflows", "{\"w\":\(entry("F64", "[2000000000,1000000000]", 0, 4))}", [0, 0, 0, 0], nil,
         { if case .sizeMismatch(_, "w", _, "F64", Int.max, 4) = $0 { true } else { false } }),
        ("offsets beyond any file", "{\"w\":\(entry("U8", "[1]", 8_000_000_000_000_000, 8_000_000_000_000_001))}", [0], nil,
         { if case .offsetsOutOfBounds = $0 { true } else { false } }),
        ("offset too large to be exact", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", [0], nil,
         { if case .malformedEntry = $0 { true } else { false } }),
        ("overlapping tensors", "{\"a\":\(entry("F32", "[2]", 0, 8)),\"b\":\(entry("F32", "[1]", 4, 8))}",
         [UInt8](repeating: 0, count: 8), nil,
         { if case .overlapping(_, "a", "b") = $0 { true } else { false } }),
        ("overlap hidden behind an empty tensor",
         "{\"a\":\(entry("F32", "[2]", 0, 8)),\"b\":\(entry("F32", "[0]", 4, 4)),\"c\":\(entry("F32", "[1]", 4, 8))}",
         [UInt8](repeating: 0, count: 8), nil,
         { if case .overlapping(_, "a", "c") = $0 { true } else { false } }),
    ]

    @Test("malformed headers are rejected with the matching error", arguments: 0 ..< malformed.count)
    func rejects(_ index: Int) throws {
        let (label, header, data, declared, matches) = Self.malformed[index]
        let path = try Self.file(header, data: data, declaredLength: declared)
        do {
            _ = try SafeTensorsFile(path: path)
            Issue.record("\(label): accepted")
        } catch let error as SafeTensorsError {
            #expect(matches(error), "\(label): got \(error)")
            #expect(error.errorDescription?.contains(path) == true)
        }
    }

    @Test("only regular files are opened: a FIFO is refused at once instead of blocking, a directory by name")
    func notRegular() throws {
        let dir = try Fixtures.temporaryDirectory()
        #expect(mkfifo(dir + "/fifo.safetensors", 0o644) == 0)
        for (path, kind) in [(dir + "/fifo.safetensors", "a FIFO"), (dir, "a directory")] {
            #expect(throws: SafeTensorsError.unreadable(path: path, reason: "not a regular file (\(kind))")) {
                try SafeTensorsFile(path: path)
            }
        }
    }

    @Test("a file shorter than the length field")
    func tooShort() throws {
        let path = try Fixtures.temporaryDirectory() + "/short.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: SafeTensorsError.tooShort(path: path, size: 3)) { try SafeTensorsFile(path: path) }
    }

    @Test("F16, BF16 and F64 convert to Float32; integers are refused on read")
    func conversions() throws {
        // 1.0, −2.0, 65504, smallest subnormal (2^-24) in binary16; 1.0, −0.5 in bfloat16; 0.25 in F64.
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001]
        let brain: [UInt16] = [0x3F80, 0xBF00]
        var data: [UInt8] = []
        for v in half + brain { withUnsafeBytes(of: v.littleEndian) { data += $0 } }
        withUnsafeBytes(of: (0.25 as Double).bitPattern.littleEndian) { data += $0 }
        withUnsafeBytes(of: Int64(7).littleEndian) { data += $0 }
        let header = "{\"h\":\(Self.entry("F16", "[4]", 0, 8)),\"b\":\(Self.entry("BF16", "[2]", 8, 12)),"
            + "\"d\":\(Self.entry("F64", "[]", 12, 20)),\"i\":\(Self.entry("I64", "[1]", 20, 28))}"
        let file = try SafeTensorsFile(path: try Self.file(header, data: data))
        #expect(try file.tensor("h").storage == [1, -2, 65504, 0x1p-24])
        #expect(try file.tensor("b").storage == [1, -0.5])
        #expect(try file.tensor("d").storage == [0.25])
        #expect(throws: SafeTensorsError.self) { try file.tensor("i") }
        #expect(throws: SafeTensorsError.self) { try file.tensor("nope") }
    }

    @Test("writer output reads back, with metadata and an aligned data section")
    func roundTrip() throws {
        let path = try Fixtures.temporaryDirectory() + "/rt.safetensors"
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [1], values: [-7.5])
        let empty = Tensor(zeros: [0, 4])
        try SafeTensorsWriter.write(["a": a, "b\"q": b, "e": empty], metadata: ["format": "pt"], to: path)
        let file = try SafeTensorsFile(path: path)
        #expect(try file.tensor("a") == a)
        #expect(try file.tensor("b\"q") == b)
        #expect(try file.tensor("e").shape == [0, 4])
        #expect(file.metadata == ["format": "pt"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
    }
}
