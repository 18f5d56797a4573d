// The safetensors format (huggingface/safetensors): u64 LE header length, a JSON header, raw data.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A safetensors file mapped into memory, its header checked before any tensor is read.
///
/// The whole header is validated on open: length bounds, JSON shape, known dtypes, offsets
/// inside the data section, `shape × dtype size == byte span`, and no two tensors sharing
/// bytes. Tensors are converted to Float32 only when asked for, straight from the mapping.
///
/// ```swift
/// let file = try SafeTensorsFile(path: "model.safetensors")
/// let w = try file.tensor("classifier.weight")
/// ```
public final class SafeTensorsFile: @unchecked Sendable {
    /// What the header says about one tensor.
    public struct Entry: Sendable, Equatable {
        public var dtype: SafeTensorsDType
        public var shape: [Int]
        /// Byte range within the data section.
        public var span: Range<Int>
    }

    /// The file this was read from.
    public let path: String
    /// Tensors by name.
    public let entries: [String: Entry]
    /// The header's `__metadata__` strings.
    public let metadata: [String: String]

    private let base: UnsafeMutableRawPointer?
    private let mappedSize: Int
    private let dataOffset: Int

    /// Maps `path` and validates its header.
    ///
    /// - Throws: ``SafeTensorsError`` naming the first problem found.
    public init(path: String) throws {
        self.path = path
        // Only regular files: a FIFO would block here forever, a device could be endless.
        let fd: Int32, size: Int
        do {
            (fd, size) = try RegularFile.descriptor(path)
        } catch let failure as RegularFile.Failure {
            throw SafeTensorsError.unreadable(path: path, reason: failure.reason)
        }
        defer { close(fd) }
        guard size >= 8 else { throw SafeTensorsError.tooShort(path: path, size: size) }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw SafeTensorsError.unreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        do {
            let bytes = UnsafeRawBufferPointer(start: mapped, count: size)
            let header = try SafeTensorsHeader.parse(bytes, path: path)
            self.entries = header.entries
            self.metadata = header.metadata
            self.dataOffset = header.dataOffset
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.base = mapped
        self.mappedSize = size
    }

    deinit {
        if let base { munmap(base, mappedSize) }
    }

    /// Tensor names in sorted order.
    public var names: [String] { entries.keys.sorted() }

    /// The shape the header gives for `name`, or `nil`.
    public func shape(of name: String) -> [Int]? { entries[name]?.shape }

    /// Reads `name` as Float32, converting F16, BF16 and F64.
    ///
    /// - Throws: ``SafeTensorsError/missingTensor(path:tensor:)``,
    ///   ``SafeTensorsError/unsupportedDType(path:tensor:dtype:)``.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw SafeTensorsError.missingTensor(path: path, tensor: name) }
        guard entry.dtype.isFloatConvertible else {
            throw SafeTensorsError.unsupportedDType(path: path, tensor: name, dtype: entry.dtype.rawValue)
        }
        let n = entry.shape.reduce(1, *)
        let src = UnsafeRawPointer(base!) + dataOffset + entry.span.lowerBound
        var values = [Float](repeating: 0, count: n)
        values.withUnsafeMutableBufferPointer { dst in
            switch entry.dtype {
            case .f32:
                if n > 0 { memcpy(dst.baseAddress!, src, n * 4) }
            case .f64:
                for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            case .bf16:
                for i in 0..<n {
                    let bits = src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                    dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bits)) << 16)
                }
            case .f16:
                for i in 0..<n {
                    dst[i] = Self.halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                }
            default:
                break
            }
        }
        release(src, bytes: entry.span.count)
        return Tensor(shape: entry.shape, values: values)
    }

    /// Drops the mapped pages of a tensor that has just been copied out, so a loaded model does
    /// not hold its weights twice (once as converted arrays, once as file pages). The mapping is
    /// private and read-only: touching those bytes again simply reads them from the file anew.
    private func release(_ start: UnsafeRawPointer, bytes: Int) {
        guard bytes > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = Int(bitPattern: start) / page * page
        let to = Int(bitPattern: start) + bytes
        _ = madvise(UnsafeMutableRawPointer(bitPattern: from), to - from, MADV_DONTNEED)
    }

    /// IEEE binary16 → binary32, subnormals, infinities and NaN included (no Float16 type on
    /// every platform Kino builds for).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
