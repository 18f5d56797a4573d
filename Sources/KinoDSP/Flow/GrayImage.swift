/// A single-channel image of Float32 grey levels (0…255 scale), row-major, no padding.
///
/// Optical flow works on grey images. Build one from 8-bit grey pixels, from Float pixels, or
/// from interleaved colour with ``GrayImage/init(interleaved:width:height:order:)`` (OpenCV's
/// `COLOR_BGR2GRAY` weights).
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width × height` grey levels, row by row.
    public var pixels: [Float]

    /// Wraps Float grey levels.
    ///
    /// - Throws: ``FlowError/badImage(_:)`` when the size is not positive or the pixel count is wrong.
    public init(width: Int, height: Int, pixels: [Float]) throws {
        guard width > 0, height > 0 else { throw FlowError.badImage("size \(width)×\(height) is not positive") }
        guard pixels.count == width * height else {
            throw FlowError.badImage("\(pixels.count) pixels given for \(width)×\(height)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Converts 8-bit grey levels.
    ///
    /// - Throws: ``FlowError/badImage(_:)`` as ``init(width:height:pixels:)``.
    public init(width: Int, height: Int, bytes: [UInt8]) throws {
        try self.init(width: width, height: height, pixels: bytes.map { Float($0) })
    }

    /// Channel order of interleaved colour input.
    public enum ChannelOrder: Sendable { case rgb, bgr, rgba, bgra }

    /// Converts interleaved 8-bit colour to grey with Rec. 601 luma weights
    /// (0.299 R + 0.587 G + 0.114 B in OpenCV's 14-bit fixed point, so results equal `COLOR_BGR2GRAY`).
    ///
    /// - Throws: ``FlowError/badImage(_:)`` when the byte count does not match the size and order.
    public init(interleaved bytes: [UInt8], width: Int, height: Int, order: ChannelOrder) throws {
        let channels = (order == .rgb || order == .bgr) ? 3 : 4
        guard width > 0, height > 0, bytes.count == width * height * channels else {
            throw FlowError.badImage("\(bytes.count) bytes given for \(width)×\(height)×\(channels)")
        }
        let (ri, bi) = (order == .rgb || order == .rgba) ? (0, 2) : (2, 0)
        var out = [Float](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            let p = i * channels
            // OpenCV's 14-bit fixed-point weights, so grey levels match `cvtColor` exactly.
            let y = (4899 * Int(bytes[p + ri]) + 9617 * Int(bytes[p + 1]) + 1868 * Int(bytes[p + bi]) + 8192) >> 14
            out[i] = Float(y)
        }
        try self.init(width: width, height: height, pixels: out)
    }

    /// Grey level at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Float { pixels[y * width + x] }
}

/// What optical flow can throw.
public enum FlowError: Error, Equatable, Sendable {
    /// An image is empty or its pixel buffer does not match its size.
    case badImage(String)
    /// Two frames (or a frame and the session) differ in size.
    case sizeMismatch(expected: String, got: String)
    /// The image is smaller than one patch at the finest scale, so no flow can be estimated.
    case imageTooSmall(width: Int, height: Int, minimum: Int)
    /// An option is out of range (patch size, stride, scales, iterations).
    case badOption(String)
    /// A flow file is truncated, has the wrong tag or an impossible size.
    case badFlowFile(String)
}

extension FlowError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .badImage(let why): return "bad image: \(why)"
        case .sizeMismatch(let expected, let got): return "frame size mismatch: expected \(expected), got \(got)"
        case .imageTooSmall(let w, let h, let minimum):
            return "image \(w)×\(h) is too small for optical flow: both sides must be at least \(minimum) px at these options"
        case .badOption(let why): return "bad optical-flow option: \(why)"
        case .badFlowFile(let why): return "bad flow file: \(why)"
        }
    }
}

#if canImport(Foundation)
import Foundation
extension FlowError: LocalizedError {
    public var errorDescription: String? { description }
}
#endif
