// Antialiased bilinear resampling in the manner of Pillow's Image.resize(BILINEAR)
// (libImaging/Resample.c): separable triangle filter, horizontal then vertical, 8-bit between passes.
import Foundation

/// An 8-bit RGB picture, rows top to bottom, pixels interleaved `R, G, B`.
public struct RGB8Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width × height × 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for \(width)×\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Resized to `width × height` with an antialiased bilinear filter.
    ///
    /// When shrinking, the triangle filter widens with the scale so every source pixel counts,
    /// as Pillow does; the result therefore differs from FFmpeg's or OpenCV's plain bilinear.
    /// Pillow's fixed-point coefficients are replaced by Float, so values may differ by one
    /// level here and there.
    public func resized(width newWidth: Int, height newHeight: Int) -> RGB8Image {
        precondition(newWidth > 0 && newHeight > 0, "resize to \(newWidth)×\(newHeight)")
        if newWidth == width && newHeight == height { return self }
        let horizontal = Self.taps(input: width, output: newWidth)
        let vertical = Self.taps(input: height, output: newHeight)
        // Horizontal pass: height × newWidth.
        var middle = [UInt8](repeating: 0, count: height * newWidth * 3)
        for y in 0..<height {
            let row = y * width * 3
            for x in 0..<newWidth {
                let (start, weights) = horizontal[x]
                var acc: (Float, Float, Float) = (0, 0, 0)
                for (i, w) in weights.enumerated() {
                    let p = row + (start + i) * 3
                    acc.0 += Float(pixels[p]) * w
                    acc.1 += Float(pixels[p + 1]) * w
                    acc.2 += Float(pixels[p + 2]) * w
                }
                let o = (y * newWidth + x) * 3
                middle[o] = Self.clamp(acc.0)
                middle[o + 1] = Self.clamp(acc.1)
                middle[o + 2] = Self.clamp(acc.2)
            }
        }
        var out = [UInt8](repeating: 0, count: newHeight * newWidth * 3)
        for y in 0..<newHeight {
            let (start, weights) = vertical[y]
            for x in 0..<newWidth {
                var acc: (Float, Float, Float) = (0, 0, 0)
                for (i, w) in weights.enumerated() {
                    let p = ((start + i) * newWidth + x) * 3
                    acc.0 += Float(middle[p]) * w
                    acc.1 += Float(middle[p + 1]) * w
                    acc.2 += Float(middle[p + 2]) * w
                }
                let o = (y * newWidth + x) * 3
                out[o] = Self.clamp(acc.0)
                out[o + 1] = Self.clamp(acc.1)
                out[o + 2] = Self.clamp(acc.2)
            }
        }
        return RGB8Image(width: newWidth, height: newHeight, pixels: out)
    }

    /// The `width × height` window at (`left`, `top`), which must lie inside the image.
    public func cropped(left: Int, top: Int, width w: Int, height h: Int) -> RGB8Image {
        precondition(left >= 0 && top >= 0 && left + w <= width && top + h <= height, "crop outside the image")
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let src = ((top + y) * width + left) * 3
            out.replaceSubrange(y * w * 3 ..< (y + 1) * w * 3, with: pixels[src ..< src + w * 3])
        }
        return RGB8Image(width: w, height: h, pixels: out)
    }

    private static func clamp(_ v: Float) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }

    /// First source index and normalised weights of each output position (Pillow's
    /// `precompute_coeffs` with the bilinear filter, support 1).
    static func taps(input: Int, output: Int) -> [(Int, [Float])] {
        let scale = Double(input) / Double(output)
        let filterScale = max(1, scale)
        let support = filterScale
        return (0..<output).map { o in
            let center = (Double(o) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            var weights = (lo..<hi).map { i -> Double in
                let x = (Double(i) - center + 0.5) / filterScale
                return max(0, 1 - abs(x))
            }
            let total = weights.reduce(0, +)
            if total > 0 { weights = weights.map { $0 / total } }
            return (lo, weights.map(Float.init))
        }
    }
}
