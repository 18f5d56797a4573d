/// Image and flow resampling: area averaging for pyramids, bilinear for flow upsampling.
///
/// Both follow OpenCV's `resize` geometry (pixel centres at +0.5), so levels line up with the
/// reference implementation; taps are computed once per size and reused every frame.
struct AreaResampler {
    /// For each output column: first input column and the weights of consecutive input columns.
    private let xStart: [Int], xWeights: [[Float]]
    private let yStart: [Int], yWeights: [[Float]]
    private let temp: Plane

    init(from src: (w: Int, h: Int), to dst: (w: Int, h: Int)) {
        (xStart, xWeights) = AreaResampler.taps(src.w, dst.w)
        (yStart, yWeights) = AreaResampler.taps(src.h, dst.h)
        temp = Plane(width: dst.w, height: src.h, pad: 0)
    }

    /// Box weights: output pixel i covers input [i·s, (i+1)·s), s = n/m, each input weighted by its overlap.
    private static func taps(_ n: Int, _ m: Int) -> ([Int], [[Float]]) {
        let scale = Double(n) / Double(m)
        var starts = [Int](), weights = [[Float]]()
        for i in 0..<m {
            let a = Double(i) * scale, b = Double(i + 1) * scale
            let first = Int(a.rounded(.down))
            var w = [Float]()
            var k = first
            while Double(k) < b - 1e-9 && k < n {
                let overlap = min(b, Double(k + 1)) - max(a, Double(k))
                w.append(Float(overlap / scale))
                k += 1
            }
            starts.append(first)
            weights.append(w)
        }
        return (starts, weights)
    }

    /// Resamples an image (`src` points at pixel (0, 0), rows `stride` floats apart) into `dst`.
    func run(_ src: UnsafePointer<Float>, stride: Int, into dst: Plane) {
        for y in 0..<temp.height {
            let s = src + y * stride, t = temp.row(y)
            for x in 0..<temp.width {
                let w = xWeights[x], base = s + xStart[x]
                var acc: Float = 0
                for k in 0..<w.count { acc += w[k] * base[k] }
                t[x] = acc
            }
        }
        let w8 = dst.width & ~7
        for y in 0..<dst.height {
            let d = dst.row(y), w = yWeights[y], y0 = yStart[y]
            var x = 0
            while x < w8 {
                var acc = SIMD8<Float>(repeating: 0)
                for k in 0..<w.count { acc += w[k] * load8(temp.row(y0 + k) + x) }
                store8(d + x, acc)
                x += 8
            }
            while x < dst.width {
                var acc: Float = 0
                for k in 0..<w.count { acc += w[k] * temp.row(y0 + k)[x] }
                d[x] = acc
                x += 1
            }
        }
    }
}

/// Bilinear resize of a flow component with OpenCV's `INTER_LINEAR` geometry, scaled by a factor.
struct BilinearResampler {
    private let x0: [Int32], fx: [Float]
    private let y0: [Int32], fy: [Float]
    let srcW: Int, srcH: Int, dstW: Int, dstH: Int

    init(from src: (w: Int, h: Int), to dst: (w: Int, h: Int)) {
        (srcW, srcH, dstW, dstH) = (src.w, src.h, dst.w, dst.h)
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
}
