/// A Float image with a halo of `pad` pixels on every side, allocated once and reused.
///
/// Rows are padded to a multiple of 8 plus 8 spare floats, so 8-wide loads and stores may run past
/// the last column of a row without touching the next row's pixels.
final class Plane: @unchecked Sendable {
    let width: Int
    let height: Int
    let pad: Int
    let stride: Int
    private let storage: UnsafeMutablePointer<Float>
    private let count: Int
    /// Pixel (0, 0); valid offsets run from `-pad * (stride + 1)` to the end of the halo.
    let origin: UnsafeMutablePointer<Float>

    init(width: Int, height: Int, pad: Int = 1) {
        self.width = width
        self.height = height
        self.pad = pad
        stride = ((width + 2 * pad + 7) / 8) * 8 + 8
        count = stride * (height + 2 * pad) + 16
        storage = .allocate(capacity: count)
        storage.initialize(repeating: 0, count: count)
        origin = storage + pad * stride + pad
    }

    deinit { storage.deallocate() }

    @inline(__always) func row(_ y: Int) -> UnsafeMutablePointer<Float> { origin + y * stride }

    /// A reference-count-free view for hot loops.
    var ref: PlaneRef { PlaneRef(origin: origin, stride: stride, width: width, height: height) }

    func fill(_ value: Float) { storage.update(repeating: value, count: count) }

    /// Zeroes rows `rows` across the full stride (halo columns included); rows −1 and `height`
    /// address the halo rows when `pad` is 1.
    func zeroRows(_ rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        (row(rows.lowerBound) - pad).update(repeating: 0, count: rows.count * stride)
    }

    /// Copies edge pixels outwards over the whole halo (OpenCV's BORDER_REPLICATE).
    func replicateBorder() {
        replicateSides(rows: 0..<height)
        replicateTopBottom()
    }

    /// Left and right halo of `rows` (bands can do their own rows in parallel).
    func replicateSides(rows: Range<Int>) {
        guard pad > 0 else { return }
        for y in rows {
            let r = row(y)
            let left = r[0], right = r[width - 1]
            for k in 1...pad { r[-k] = left; r[width - 1 + k] = right }
        }
    }

    /// Halo rows above and below, corners included (after ``replicateSides(rows:)`` of all rows).
    func replicateTopBottom() {
        guard pad > 0 else { return }
        let full = width + 2 * pad
        for k in 1...pad {
            (row(-k) - pad).update(from: row(0) - pad, count: full)
            (row(height - 1 + k) - pad).update(from: row(height - 1) - pad, count: full)
        }
    }

    /// Copies another plane's pixels (same size) without the halo.
    func copyPixels(from other: Plane) {
        precondition(other.width == width && other.height == height)
        for y in 0..<height { row(y).update(from: other.row(y), count: width) }
    }
}

/// Pointer, row stride and size of a ``Plane``: a plain value, so kernels pay no reference counting.
struct PlaneRef {
    let origin: UnsafeMutablePointer<Float>
    let stride: Int
    let width: Int
    let height: Int
    @inline(__always) func row(_ y: Int) -> UnsafeMutablePointer<Float> { origin + y * stride }
}

/// `1 / sqrt(x)` for positive `x`, 8 lanes at once, to float precision.
///
/// `SIMD8.squareRoot()` is lowered lane by lane here (each lane with a libm fallback branch), which
/// made the refinement's weight passes sqrt-bound; a bit-level estimate refined by three Newton
/// steps stays in vector registers and also removes the division that follows.
@inline(__always) func rsqrt8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    var y = unsafeBitCast(SIMD8<UInt32>(repeating: 0x5F37_5A86) &- (bits &>> 1), to: SIMD8<Float>.self)
    let half = 0.5 * x
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    return y
}

@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Rows `[start, end)` of band `band` when `rows` rows are cut into `bands` nearly equal bands.
///
/// Sizes differ by at most one row, spread evenly (44 rows in 8 bands: 5,6,5,6,5,6,5,6), so the
/// first and second half of the bands, which the two threads take, carry the same work.
@inline(__always) func bandRows(_ band: Int, of bands: Int, rows: Int) -> Range<Int> {
    (band * rows / bands)..<((band + 1) * rows / bands)
}

/// OpenCV's patch-search stripes: ⌈rows / stripes⌉ rows each, the last ones shorter or empty.
/// Kept for the search because propagation stops at stripe edges, so matching OpenCV's layout
/// keeps accuracy identical on small grids (balanced stripes cost ~2 % EPE at 64×48).
@inline(__always) func stripeRows(_ stripe: Int, of stripes: Int, rows: Int) -> Range<Int> {
    let size = (rows + stripes - 1) / stripes
    return min(stripe * size, rows)..<min((stripe + 1) * size, rows)
}

