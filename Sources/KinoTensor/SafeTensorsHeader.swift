import Foundation

/// Parsing and validation of a safetensors header, separate from the mapping so that
/// malformed headers can be tested from bytes.
enum SafeTensorsHeader {
    /// Headers above this are refused before JSON parsing (the reference library uses 100 MB).
    static let maximumLength: UInt64 = 100_000_000

    struct Parsed {
        var entries: [String: SafeTensorsFile.Entry]
        var metadata: [String: String]
        /// Offset of the data section from the start of the file.
        var dataOffset: Int
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Parsed {
        guard bytes.count >= 8 else { throw SafeTensorsError.tooShort(path: path, size: bytes.count) }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        let available = bytes.count - 8
        guard declared > 0, declared <= maximumLength, declared <= UInt64(available) else {
            throw SafeTensorsError.headerLength(path: path, declared: declared, available: available)
        }
        let headerLength = Int(declared)
        let json = Data(bytes[8 ..< 8 + headerLength])
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json, options: [])
        } catch {
            throw SafeTensorsError.headerNotJSON(path: path, reason: "\(error.localizedDescription)")
        }
        guard let header = object as? [String: Any] else {
            throw SafeTensorsError.headerNotJSON(path: path, reason: "top level is not an object")
        }
        let dataSize = available - headerLength
        var entries: [String: SafeTensorsFile.Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else {
                    throw SafeTensorsError.headerNotJSON(path: path, reason: "__metadata__ is not a string map")
                }
                metadata = strings
                continue
            }
            entries[name] = try entry(name, value, dataSize: dataSize, path: path)
        }
        // Sorted by start, each non-empty tensor must begin at or after the furthest end so far.
        let ordered = entries.sorted { ($0.value.span.lowerBound, $0.key) < ($1.value.span.lowerBound, $1.key) }
        var furthest: (end: Int, name: String)?
        for (name, entry) in ordered where !entry.span.isEmpty {
            if let f = furthest, entry.span.lowerBound < f.end {
                throw SafeTensorsError.overlapping(path: path, first: f.name, second: name)
            }
            if entry.span.upperBound > furthest?.end ?? -1 { furthest = (entry.span.upperBound, name) }
        }
        return Parsed(entries: entries, metadata: metadata, dataOffset: 8 + headerLength)
    }

    private static func entry(_ name: String, _ value: Any, dataSize: Int, path: String) throws -> SafeTensorsFile.Entry {
        func bad(_ reason: String) -> SafeTensorsError {
            .malformedEntry(path: path, tensor: name, reason: reason)
        }
        guard let fields = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dtypeName = fields["dtype"] as? String else { throw bad("missing or non-string \"dtype\"") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsError.unknownDType(path: path, tensor: name, dtype: dtypeName)
        }
        guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues),
              shape.allSatisfy({ $0 >= 0 }) else {
            throw bad("\"shape\" is not a list of non-negative integers")
        }
        guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues),
              offsets.count == 2 else {
            throw bad("\"data_offsets\" is not a pair of integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw SafeTensorsError.offsetsOutOfBounds(path: path, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shape) overflows") }
            elements = product
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, expected == end - begin else {
            throw SafeTensorsError.sizeMismatch(path: path, tensor: name, shape: shape, dtype: dtypeName,
                                                expectedBytes: overflow ? Int.max : expected, actualBytes: end - begin)
        }
        return SafeTensorsFile.Entry(dtype: dtype, shape: shape, span: begin ..< end)
    }

    /// Integers from JSON numbers, refusing fractions and anything that is not a number.
    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber else { return nil }
            let d = number.doubleValue
            guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}
