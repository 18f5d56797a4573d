/// An 8-bit RGB raster, rows top to bottom, three bytes per pixel; ready for an image encoder.
public struct RGBImage: Sendable, Equatable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `height × width × 3` bytes: row 0 (the top) first, red-green-blue per pixel.
    public var pixels: [UInt8]

    /// Wraps `pixels`.
    ///
    /// - Precondition: `pixels.count == width × height × 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixel at column `x`, row `y` (row 0 at the top).
    public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let i = 3 * (y * width + x)
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

extension ColorMap {
    /// Renders a `[frames, bins]` feature matrix as a picture: time left to right, low frequency at the bottom.
    ///
    /// Each value is mapped linearly from `range` to `[0, 1]` and looked up in this map; values
    /// outside the range are clamped, NaN takes the lowest colour. The image is `frames` pixels wide
    /// and `bins` high; scale it in the encoder if a larger picture is wanted.
    ///
    /// ```swift
    /// let fbank = try KaldiFbank(options: .ast).compute(samples)
    /// let image = ColorMap.magma.render(fbank, range: nil)   // then KinoMedia writes the PNG
    /// ```
    ///
    /// - Parameters:
    ///   - matrix: features, e.g. log-mel or decibels.
    ///   - range: the values shown as the lowest and highest colours; `nil` uses the matrix's
    ///     finite minimum and maximum. A constant matrix (or an empty range) renders as the lowest colour.
    /// - Returns: a `matrix.frames × matrix.bins` image.
    public func render(_ matrix: FeatureMatrix, range: ClosedRange<Float>? = nil) -> RGBImage {
        let width = matrix.frames, height = matrix.bins
        var low: Float = 0, high: Float = 0
        if let range {
            (low, high) = (range.lowerBound, range.upperBound)
        } else {
            let finite = matrix.values.filter(\.isFinite)
            (low, high) = (finite.min() ?? 0, finite.max() ?? 0)
        }
        let scale: Float = high > low ? 1 / (high - low) : 0
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        table.withUnsafeBufferPointer { lut in
            matrix.values.withUnsafeBufferPointer { v in
                pixels.withUnsafeMutableBufferPointer { p in
                    for t in 0..<width {
                        for b in 0..<height {
                            let entry = 3 * index((v[t * height + b] - low) * scale)
                            let pixel = 3 * ((height - 1 - b) * width + t)
                            p[pixel] = lut[entry]
                            p[pixel + 1] = lut[entry + 1]
                            p[pixel + 2] = lut[entry + 2]
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
