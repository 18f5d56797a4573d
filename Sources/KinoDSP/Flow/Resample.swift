/// Image and flow resampling: area averaging for pyramids, bilinear for flow upsampling.
///
/// Both follow OpenCV's `resize` geometry (pixel centres at +0.5), so levels line up with the
/// reference implementation; taps are computed once per size and reused every frame.
struct AreaResampler {
    /// Per output column (row): first input column (row), tap count, offset into the flat weights.
    private let xTaps: [(start: Int, count: Int, offset: Int)], xWeights: [Float]
    private let yTaps: [(start: Int, count: Int, offset: Int)], yWeights: [Float]
    /// Exact integer factor in both directions (the common 2ⁿ case): plain box sums.
    private let factor: Int?
    private let temp: Plane
    private let srcWidth: Int

    init(from src: (w: Int, h: Int), to dst: (w: Int, h: Int)) {
        (xTaps, xWeights) = AreaResampler.taps(src.w, dst.w)
        (yTaps, yWeights) = AreaResampler.taps(src.h, dst.h)
        let f = src.w / dst.w
        factor = (f * dst.w == src.w && f * dst.h == src.h) ? f : nil
        srcWidth = src.w
        temp = Plane(width: max(dst.w, src.w), height: src.h, pad: 0)
    }

    /// Box weights: output pixel i covers input [i·s, (i+1)·s), s = n/m, each input weighted by its overlap.
    private static func taps(_ n: Int, _ m: Int) -> ([(start: Int, count: Int, offset: Int)], [Float]) {
        let scale = Double(n) / Double(m)
        var taps = [(start: Int, count: Int, offset: Int)](), weights = [Float]()
        for i in 0..<m {
            let a = Double(i) * scale, b = Double(i + 1) * scale
            let first = Int(a.rounded(.down))
            var k = first
            let offset = weights.count
            while Double(k) < b - 1e-9 && k < n {
                weights.append(Float((min(b, Double(k + 1)) - max(a, Double(k))) / scale))
                k += 1
            }
            taps.append((first, k - first, offset))
        }
        return (taps, weights)
    }

    /// Whether ``run(_:stride:into:rows:band:)`` can fill separate output rows from two threads.
    var splitsRows: Bool { factor != nil }

    /// Resamples an image (`src` points at pixel (0, 0), rows `stride` floats apart) into `dst`.
    func run(_ src: UnsafePointer<Float>, stride: Int, into dst: Plane) {
        if let f = factor { runBox(src, stride: stride, factor: f, into: dst, rows: 0..<dst.height, band: 0); return }
        xWeights.withUnsafeBufferPointer { xw in
            for y in 0..<temp.height {
                let s = src + y * stride, t = temp.row(y)
                for x in 0..<dst.width {
                    let tap = xTaps[x]
                    var acc: Float = 0
                    for k in 0..<tap.count { acc += xw[tap.offset + k] * s[tap.start + k] }
                    t[x] = acc
                }
            }
        }
        let w8 = dst.width & ~7
        for y in 0..<dst.height {
            let d = dst.row(y), tap = yTaps[y]
            var x = 0
            while x < w8 {
                var acc = SIMD8<Float>(repeating: 0)
                for k in 0..<tap.count { acc += yWeights[tap.offset + k] * load8(temp.row(tap.start + k) + x) }
                store8(d + x, acc)
                x += 8
            }
            while x < dst.width {
                var acc: Float = 0
                for k in 0..<tap.count { acc += yWeights[tap.offset + k] * temp.row(tap.start + k)[x] }
                d[x] = acc
                x += 1
            }
        }
    }

    /// Output rows `rows` only, with scratch row `band` (0 or 1), so two threads can share the
    /// work (integer factors only: ``splitsRows``).
    func run(_ src: UnsafePointer<Float>, stride: Int, into dst: Plane, rows: Range<Int>, band: Int) {
        guard let f = factor else { preconditionFailure("row bands need an integer factor") }
        runBox(src, stride: stride, factor: f, into: dst, rows: rows, band: band)
    }

    /// Integer-factor area average: sum `f` rows with 8-wide adds, then groups of `f` columns.
    private func runBox(_ src: UnsafePointer<Float>, stride: Int, factor f: Int, into dst: Plane, rows: Range<Int>, band: Int) {
        let scale = 1 / Float(f * f), sum = temp.row(band), w = srcWidth
        for y in rows {
            let first = src + y * f * stride
            var x = 0
            while x + 8 <= w {
                var acc = UnsafeRawPointer(first + x).loadUnaligned(as: SIMD8<Float>.self)
                for k in 1..<max(f, 1) where k < f {
                    acc += UnsafeRawPointer(first + k * stride + x).loadUnaligned(as: SIMD8<Float>.self)
                }
                store8(sum + x, acc)
                x += 8
            }
            while x < w {
                var acc: Float = 0
                for k in 0..<f { acc += first[k * stride + x] }
                sum[x] = acc
                x += 1
            }
            let d = dst.row(y)
            if f == 2 {
                for x in 0..<dst.width { d[x] = (sum[2 * x] + sum[2 * x + 1]) * scale }
            } else if f == 4 {
                for x in 0..<dst.width {
                    let p = sum + 4 * x
                    d[x] = ((p[0] + p[1]) + (p[2] + p[3])) * scale
                }
            } else {
                for x in 0..<dst.width {
                    var acc: Float = 0
                    for k in 0..<f { acc += sum[f * x + k] }
                    d[x] = acc * scale
                }
            }
        }
    }
}

/// Bilinear resize of a flow component with OpenCV's `INTER_LINEAR` geometry, scaled by a factor.
struct BilinearResampler {
    private let x0: [Int32], fx: [Float]
    private let y0: [Int32], fy: [Float]
    let srcW: Int, srcH: Int, dstW: Int, dstH: Int
    /// Two bands × (u, v) scratch rows for the exact-factor path; owned by `storage`.
    private let storage: ScratchStorage
    private var scratch: UnsafeMutablePointer<Float> { storage.pointer }

    init(from src: (w: Int, h: Int), to dst: (w: Int, h: Int)) {
        (srcW, srcH, dstW, dstH) = (src.w, src.h, dst.w, dst.h)
        storage = ScratchStorage(count: 4 * (src.w + 2))
        (x0, fx) = BilinearResampler.taps(src.w, dst.w)
        (y0, fy) = BilinearResampler.taps(src.h, dst.h)
    }

    private static func taps(_ n: Int, _ m: Int) -> ([Int32], [Float]) {
        let scale = Float(n) / Float(m)
        var idx = [Int32](), frac = [Float]()
        for i in 0..<m {
            var s = (Float(i) + 0.5) * scale - 0.5
            if s < 0 { s = 0 }
            var k = Int(s)
            var f = s - Float(k)
            if k >= n - 1 { k = max(n - 2, 0); f = n == 1 ? 0 : 1 }
            idx.append(Int32(k)); frac.append(f)
        }
        return (idx, frac)
    }

    /// Resizes rows `rows` of the output: `dst = factor · resize(src)`.
    func run(_ src: Plane, into dst: Plane, factor: Float, rows: Range<Int>) {
        let single = srcW == 1
        for y in rows {
            let r0 = src.row(Int(y0[y])), r1 = srcH == 1 ? r0 : r0 + src.stride
            let wy = fy[y], d = dst.row(y)
            for x in 0..<dstW {
                let k = Int(x0[x]), k1 = single ? k : k + 1, wx = fx[x]
                let top = r0[k] + wx * (r0[k1] - r0[k])
                let bottom = r1[k] + wx * (r1[k1] - r1[k])
                d[x] = factor * (top + wy * (bottom - top))
            }
        }
    }

    /// Resizes two planes into interleaved (u, v) output, scaled by `factor` (the final full-size flow).
    func runInterleaved(_ u: Plane, _ v: Plane, into out: UnsafeMutablePointer<Float>, factor: Float, rows: Range<Int>) {
        if srcW >= 2 && (dstW == 4 * srcW || dstW == 2 * srcW) {
            runInterleavedExact(u, v, into: out, factor: factor, rows: rows)
            return
        }
        let single = srcW == 1
        for y in rows {
            let o0 = Int(y0[y]) * u.stride, o1 = srcH == 1 ? o0 : o0 + u.stride
            let ur0 = u.origin + o0, ur1 = u.origin + o1, vr0 = v.origin + o0, vr1 = v.origin + o1
            let wy = fy[y], d = out + 2 * y * dstW
            for x in 0..<dstW {
                let k = Int(x0[x]), k1 = single ? k : k + 1, wx = fx[x]
                let ut = ur0[k] + wx * (ur0[k1] - ur0[k]), ub = ur1[k] + wx * (ur1[k1] - ur1[k])
                let vt = vr0[k] + wx * (vr0[k1] - vr0[k]), vb = vr1[k] + wx * (vr1[k1] - vr1[k])
                d[2 * x] = factor * (ut + wy * (ub - ut))
                d[2 * x + 1] = factor * (vt + wy * (vb - vt))
            }
        }
    }

    /// ×2 and ×4 widths: the horizontal weights repeat every source pixel, so after a vertical
    /// lerp into a scratch row each source pixel yields 8 interleaved output floats in one step.
    private func runInterleavedExact(_ u: Plane, _ v: Plane, into out: UnsafeMutablePointer<Float>, factor: Float,
                                     rows: Range<Int>) {
        let n = srcW
        do {
            // One scratch pair per band (rows decide the band), allocated with the resampler.
            let band = rows.lowerBound == 0 ? 0 : 1
            let tu = scratch + 1 + band * 2 * (n + 2), tv = tu + n + 2
            for y in rows {
                let o0 = Int(y0[y]) * u.stride, o1 = srcH == 1 ? o0 : o0 + u.stride
                let wy = fy[y]
                for j in 0..<n {
                    let a = u.origin[o0 + j], b = u.origin[o1 + j], c = v.origin[o0 + j], d = v.origin[o1 + j]
                    tu[j] = factor * (a + wy * (b - a))
                    tv[j] = factor * (c + wy * (d - c))
                }
                tu[-1] = tu[0]; tv[-1] = tv[0]; tu[n] = tu[n - 1]; tv[n] = tv[n - 1]
                let d = out + 2 * y * dstW
                if dstW == 4 * n {
                    let w = SIMD8<Float>(0.625, 0.625, 0.875, 0.875, 0.125, 0.125, 0.375, 0.375)
                    for j in 0..<n {
                        let l = SIMD8(tu[j - 1], tv[j - 1], tu[j - 1], tv[j - 1], tu[j], tv[j], tu[j], tv[j])
                        let r = SIMD8(tu[j], tv[j], tu[j], tv[j], tu[j + 1], tv[j + 1], tu[j + 1], tv[j + 1])
                        store8(d + 8 * j, l + w * (r - l))
                    }
                } else {
                    let w = SIMD4<Float>(0.75, 0.75, 0.25, 0.25)
                    for j in 0..<n {
                        let l = SIMD4(tu[j - 1], tv[j - 1], tu[j], tv[j])
                        let r = SIMD4(tu[j], tv[j], tu[j + 1], tv[j + 1])
                        UnsafeMutableRawPointer(d + 4 * j).storeBytes(of: l + w * (r - l), as: SIMD4<Float>.self)
                    }
                }
            }
        }
    }
}

/// Heap floats freed with their owner (lets a value type keep preallocated scratch).
final class ScratchStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(count: Int) {
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }
    deinit { pointer.deallocate() }
}
