/// A dense 2-D motion field: for each pixel of frame t, the displacement (u, v) in pixels to frame t+1.
///
/// Convention (OpenCV, Middlebury): `I0(x, y) ≈ I1(x + u, y + v)`. Stored interleaved, row-major,
/// exactly as a `.flo` file body, so writing and reading need no reshuffle.
public struct FlowField: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width × height × 2` floats: u0, v0, u1, v1, …
    public var uv: [Float]

    /// A zero field.
    public init(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "negative flow size")
        self.width = width
        self.height = height
        uv = [Float](repeating: 0, count: width * height * 2)
    }

    /// Wraps interleaved (u, v) values.
    ///
    /// - Throws: ``FlowError/badImage(_:)`` when `uv.count != width * height * 2`.
    public init(width: Int, height: Int, uv: [Float]) throws {
        guard width >= 0, height >= 0, uv.count == width * height * 2 else {
            throw FlowError.badImage("\(uv.count) flow values given for \(width)×\(height)×2")
        }
        self.width = width
        self.height = height
        self.uv = uv
    }

    /// The displacement at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> SIMD2<Float> {
        get { let i = 2 * (y * width + x); return SIMD2(uv[i], uv[i + 1]) }
        set { let i = 2 * (y * width + x); uv[i] = newValue.x; uv[i + 1] = newValue.y }
    }

    /// Bilinear sample at a fractional position, clamped to the field's edge.
    public func sample(x: Float, y: Float) -> SIMD2<Float> {
        let cx = min(max(x, 0), Float(width - 1)), cy = min(max(y, 0), Float(height - 1))
        let x0 = Int(cx), y0 = Int(cy)
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let fx = cx - Float(x0), fy = cy - Float(y0)
        let top = self[x0, y0] * (1 - fx) + self[x1, y0] * fx
        let bottom = self[x0, y1] * (1 - fx) + self[x1, y1] * fx
        return top * (1 - fy) + bottom * fy
    }

    /// Mean end-point error against a reference field over the pixels where `valid` is true (all when nil).
    public func endPointError(to reference: FlowField, valid: [Bool]? = nil) -> Double {
        precondition(reference.width == width && reference.height == height, "EPE of fields of different size")
        var total = 0.0, count = 0
        for i in 0..<(width * height) where valid?[i] ?? true {
            let du = Double(uv[2 * i] - reference.uv[2 * i]), dv = Double(uv[2 * i + 1] - reference.uv[2 * i + 1])
            total += (du * du + dv * dv).squareRoot()
            count += 1
        }
        return count == 0 ? 0 : total / Double(count)
    }
}
