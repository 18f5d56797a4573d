import Foundation

/// What can go wrong reading or writing a safetensors file; every case names the file and,
/// where there is one, the tensor.
public enum SafeTensorsError: Error, Equatable, LocalizedError {
    /// The file could not be opened, sized or mapped.
    case unreadable(path: String, reason: String)
    /// Shorter than the 8-byte header length.
    case tooShort(path: String, size: Int)
    /// The declared header length is zero, too large, or runs past the end of the file.
    case headerLength(path: String, declared: UInt64, available: Int)
    /// The header is not a JSON object of the expected form.
    case headerNotJSON(path: String, reason: String)
    /// One entry lacks a field or has one of the wrong type.
    case malformedEntry(path: String, tensor: String, reason: String)
    /// A dtype the format does not define.
    case unknownDType(path: String, tensor: String, dtype: String)
    /// A dtype the format defines but Kino does not convert to Float32 (integers, FP8).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// `data_offsets` outside the data section or reversed.
    case offsetsOutOfBounds(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// The byte span does not equal `shape × dtype size`.
    case sizeMismatch(path: String, tensor: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    /// Two tensors claim the same bytes.
    case overlapping(path: String, first: String, second: String)
    /// No tensor of that name in the file.
    case missingTensor(path: String, tensor: String)
    /// Writing failed.
    case writeFailed(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read safetensors file \(path): \(reason)"
        case .tooShort(let path, let size):
            "\(path) is \(size) bytes, too short for a safetensors header"
        case .headerLength(let path, let declared, let available):
            "\(path): header length \(declared) is invalid (\(available) bytes follow the length field)"
        case .headerNotJSON(let path, let reason):
            "\(path): header is not a valid safetensors JSON object: \(reason)"
        case .malformedEntry(let path, let tensor, let reason):
            "\(path): tensor \"\(tensor)\": \(reason)"
        case .unknownDType(let path, let tensor, let dtype):
            "\(path): tensor \"\(tensor)\" has unknown dtype \(dtype)"
        case .unsupportedDType(let path, let tensor, let dtype):
            "\(path): tensor \"\(tensor)\" has dtype \(dtype); only F32, F16, BF16 and F64 convert to Float32"
        case .offsetsOutOfBounds(let path, let tensor, let begin, let end, let dataSize):
            "\(path): tensor \"\(tensor)\" spans bytes \(begin)..<\(end), outside the \(dataSize)-byte data section"
        case .sizeMismatch(let path, let tensor, let shape, let dtype, let expected, let actual):
            "\(path): tensor \"\(tensor)\" of shape \(shape) and dtype \(dtype) needs \(expected) bytes, has \(actual)"
        case .overlapping(let path, let first, let second):
            "\(path): tensors \"\(first)\" and \"\(second)\" overlap"
        case .missingTensor(let path, let tensor):
            "\(path) has no tensor \"\(tensor)\""
        case .writeFailed(let path, let reason):
            "cannot write \(path): \(reason)"
        }
    }
}

/// Element types of the safetensors format.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: 1
        }
    }

    /// Whether ``SafeTensorsFile/tensor(_:)`` converts it to Float32.
    public var isFloatConvertible: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
}
