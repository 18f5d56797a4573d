/// Sparse patch inverse search of DIS (Kroeger et al. 2016): inverse-compositional Gauss-Newton per patch.
///
/// Each patch of frame 0 is matched in frame 1. Because the Gauss-Newton Hessian comes from the
/// template's own gradients, it is built once per patch; every iteration only resamples frame 1.
/// With 8×8 patches one patch row is one `SIMD8<Float>`, and the template and its gradients stay
/// in registers for the whole loop. Gradients are the unscaled 3×3 Sobel responses (as OpenCV's
/// `spatialGradient`), which fixes the step length the presets were tuned for.
struct PatchGrid {
    let patchSize: Int
    let stride: Int
    let cols: Int   // ws
    let rows: Int   // hs
    /// Sparse flow, `rows × cols`, one vector per patch.
    let sx: UnsafeMutablePointer<Float>
    let sy: UnsafeMutablePointer<Float>

    init(width: Int, height: Int, patchSize: Int, stride: Int, sx: UnsafeMutablePointer<Float>, sy: UnsafeMutablePointer<Float>) {
        self.patchSize = patchSize
        self.stride = stride
        cols = 1 + (width - patchSize) / stride
        rows = 1 + (height - patchSize) / stride
        self.sx = sx
        self.sy = sy
    }
}

/// Inputs of the search on one pyramid level.
struct SearchLevel {
    let i0: PlaneRef, i1: PlaneRef, gx: PlaneRef, gy: PlaneRef
    /// Dense flow from the coarser level (already ×2), sampled at each patch centre to seed it.
    let seedU: PlaneRef, seedV: PlaneRef
    /// Optional temporal candidate (previous frame's flow on this level), same layout as the seed.
    let priorU: PlaneRef?, priorV: PlaneRef?
    let iterationsPerSweep: Int
    let meanNormalization: Bool
    let spatialPropagation: Bool
}

/// Bilinear weights and the integer top-left of a displaced patch, clamped the way OpenCV clamps.
@inline(__always)
private func warpOrigin(_ x: Int, _ y: Int, _ u: Float, _ v: Float, _ w: Int, _ h: Int, _ psz: Int)
    -> (x0: Int, y0: Int, fx: Float, fy: Float) {
    let px = min(max(Float(x) + u, Float(1 - psz)), Float(w - 1))
    let py = min(max(Float(y) + v, Float(1 - psz)), Float(h - 1))
    let fx0 = px.rounded(.down), fy0 = py.rounded(.down)
    return (Int(fx0), Int(fy0), px - fx0, py - fy0)
}

extension PatchGrid {
    /// Searches patch rows `band` (forward sweep, then backward sweep) on one level.
    func search(_ L: SearchLevel, band: Range<Int>) {
        if band.isEmpty { return }
        for sweep in 0..<(L.spatialPropagation ? 2 : 1) {
            let forward = sweep == 0
            var first = true
            let step = forward ? 1 : -1
            let rowStart = forward ? band.lowerBound : band.upperBound - 1
            for k in 0..<band.count {
                let ps = rowStart + k * step
                var firstInRow = true
                for m in 0..<cols {
                    let qs = forward ? m : cols - 1 - m
                    searchPatch(L, ps: ps, qs: qs, sweep: sweep,
                                left: firstInRow ? nil : qs - step,
                                up: first ? nil : ps - step)
                    firstInRow = false
                }
                first = false
            }
        }
    }

    @inline(__always)
    private func searchPatch(_ L: SearchLevel, ps: Int, qs: Int, sweep: Int, left: Int?, up: Int?) {
        let psz = patchSize, x = qs * stride, y = ps * stride, idx = ps * cols + qs
        let w = L.i0.width, h = L.i0.height
        if sweep == 0 {
            let c = y + psz / 2, cx = x + psz / 2
            sx[idx] = L.seedU.row(c)[cx]
            sy[idx] = L.seedV.row(c)[cx]
        }
        let kernel = PatchKernel(L: L, x: x, y: y, psz: psz, w: w, h: h)
        if L.spatialPropagation || L.priorU != nil {
            var best = kernel.ssd(sx[idx], sy[idx])
            func consider(_ u: Float, _ v: Float) {
                let s = kernel.ssd(u, v)
                if s < best { best = s; sx[idx] = u; sy[idx] = v }
            }
            if let pu = L.priorU, let pv = L.priorV {
                let c = y + psz / 2, cx = x + psz / 2
                consider(pu.row(c)[cx], pv.row(c)[cx])
            }
            if L.spatialPropagation {
                if let l = left { consider(sx[ps * cols + l], sy[ps * cols + l]) }
                if let u = up { consider(sx[u * cols + qs], sy[u * cols + qs]) }
            }
        }
        let start = SIMD2(sx[idx], sy[idx])
        let result = kernel.gaussNewton(from: start, iterations: L.iterationsPerSweep)
        let d = result - start
        if (d * d).sum() <= Float(psz * psz) {
            sx[idx] = result.x
            sy[idx] = result.y
        }
    }
}

/// The per-patch arithmetic: SSD of a displacement and Gauss-Newton updates.
private struct PatchKernel {
    let L: SearchLevel
    let x: Int, y: Int, psz: Int, w: Int, h: Int

    init(L: SearchLevel, x: Int, y: Int, psz: Int, w: Int, h: Int) {
        self.L = L; self.x = x; self.y = y; self.psz = psz; self.w = w; self.h = h
    }

    /// Sum of squared differences (mean-removed when mean normalisation is on).
    @inline(__always) func ssd(_ u: Float, _ v: Float) -> Float {
        let o = warpOrigin(x, y, u, v, w, h, psz)
        let n = Float(psz * psz)
        if psz == 8 {
            var sum = SIMD8<Float>.zero, sq = SIMD8<Float>.zero
            forEachRowDifference8(o) { _, d in sum += d; sq = sq.addingProduct(d, d) }
            let s = sum.sum()
            return L.meanNormalization ? sq.sum() - s * s / n : sq.sum()
        }
        var s: Float = 0, q: Float = 0
        forEachDifference(o) { _, _, d in s += d; q += d * d }
        return L.meanNormalization ? q - s * s / n : q
    }

    /// Calls `body(r, d)` for each row r of an 8×8 patch with `d = I1(warped) − I0`, 8 lanes:
    /// bilinear in x per input row, each input row's interpolation reused for the next output row.
    @inline(__always)
    private func forEachRowDifference8(_ o: (x0: Int, y0: Int, fx: Float, fy: Float), _ body: (Int, SIMD8<Float>) -> Void) {
        let fx = SIMD8<Float>(repeating: o.fx), fy = SIMD8<Float>(repeating: o.fy)
        var p1 = L.i1.row(o.y0) + o.x0
        var a = load8(p1), b = load8(p1 + 1)
        var top = a.addingProduct(fx, b - a)
        for r in 0..<8 {
            p1 += L.i1.stride
            a = load8(p1); b = load8(p1 + 1)
            let bottom = a.addingProduct(fx, b - a)
            body(r, top.addingProduct(fy, bottom - top) - load8(L.i0.row(y + r) + x))
            top = bottom
        }
    }

    /// Calls `body(r, c, d)` for each pixel of a patch of any size (the scalar path).
    @inline(__always)
    private func forEachDifference(_ o: (x0: Int, y0: Int, fx: Float, fy: Float), _ body: (Int, Int, Float) -> Void) {
        for r in 0..<psz {
            let t0 = L.i1.row(o.y0 + r) + o.x0, t1 = t0 + L.i1.stride, i0 = L.i0.row(y + r) + x
            for c in 0..<psz {
                let top = t0[c] + o.fx * (t0[c + 1] - t0[c]), bottom = t1[c] + o.fx * (t1[c + 1] - t1[c])
                body(r, c, top + o.fy * (bottom - top) - i0[c])
            }
        }
    }

    /// Runs up to `iterations` inverse-compositional steps; stops once the SSD stops falling
    /// (the step that failed to improve is kept, as in OpenCV).
    @inline(__always) func gaussNewton(from start: SIMD2<Float>, iterations: Int) -> SIMD2<Float> {
        if iterations == 0 { return start }
        let n = Float(psz * psz)
        // Structure tensor and gradient sums of the template.
        var xx: Float = 0, yy: Float = 0, xy: Float = 0, gxs: Float = 0, gys: Float = 0
        if psz == 8 {
            var vxx = SIMD8<Float>.zero, vyy = vxx, vxy = vxx, vx = vxx, vy = vxx
            for r in 0..<8 {
                let gx = load8(L.gx.row(y + r) + x), gy = load8(L.gy.row(y + r) + x)
                vxx += gx * gx; vyy += gy * gy; vxy += gx * gy; vx += gx; vy += gy
            }
            xx = vxx.sum(); yy = vyy.sum(); xy = vxy.sum(); gxs = vx.sum(); gys = vy.sum()
        } else {
            for r in 0..<psz {
                let gxr = L.gx.row(y + r) + x, gyr = L.gy.row(y + r) + x
                for c in 0..<psz {
                    xx += gxr[c] * gxr[c]; yy += gyr[c] * gyr[c]; xy += gxr[c] * gyr[c]
                    gxs += gxr[c]; gys += gyr[c]
                }
            }
        }
        var det = xx * yy - xy * xy
        if abs(det) < 1e-3 { det = 1e-3 }
        let i11 = yy / det, i12 = -xy / det, i22 = xx / det
        var cur = start
        var previous = Float.infinity
        for _ in 0..<iterations {
            let (ssd, bx, by) = residual(cur, gxs: gxs, gys: gys, n: n)
            cur.x -= i11 * bx + i12 * by
            cur.y -= i12 * bx + i22 * by
            if ssd >= previous { break }
            previous = ssd
        }
        return cur
    }

    /// SSD and the gradient-weighted residual sums at displacement `u`.
    @inline(__always) private func residual(_ u: SIMD2<Float>, gxs: Float, gys: Float, n: Float) -> (Float, Float, Float) {
        let o = warpOrigin(x, y, u.x, u.y, w, h, psz)
        var s: Float = 0, q: Float = 0, bx: Float = 0, by: Float = 0
        if psz == 8 {
            var vs = SIMD8<Float>.zero, vq = vs, vbx = vs, vby = vs
            forEachRowDifference8(o) { r, d in
                vs += d; vq = vq.addingProduct(d, d)
                vbx = vbx.addingProduct(d, load8(L.gx.row(y + r) + x))
                vby = vby.addingProduct(d, load8(L.gy.row(y + r) + x))
            }
            s = vs.sum(); q = vq.sum(); bx = vbx.sum(); by = vby.sum()
        } else {
            forEachDifference(o) { r, c, d in
                s += d; q += d * d; bx += d * L.gx.row(y + r)[x + c]; by += d * L.gy.row(y + r)[x + c]
            }
        }
        if L.meanNormalization {
            return (q - s * s / n, bx - s * gxs / n, by - s * gys / n)
        }
        return (q, bx, by)
    }
}
