/// Densification of the sparse patch flow: each pixel takes a photometrically weighted mean of
/// the vectors of all patches that cover it, weight `1 / max(1, |I1(x + u_i) − I0(x)|)`.
///
/// Rather than gathering per pixel, each patch scatters its weighted vector over its rows of the
/// output band; inside the frame the bilinear weights are constant per patch, so a patch row is
/// one 8-wide step. Pixels right or below the last patch take the last patch, as in OpenCV.
extension PatchGrid {
    /// Writes dense flow `u`, `v` for rows `band`, using `acc` (same size) as the weight sum.
    func densify(i0: PlaneRef, i1: PlaneRef, u: PlaneRef, v: PlaneRef, acc: PlaneRef, band: Range<Int>) {
        let w = i0.width, h = i0.height
        for y in band {
            let ur = u.row(y), vr = v.row(y), ar = acc.row(y)
            for x in 0..<w { ur[x] = 0; vr[x] = 0; ar[x] = 0 }
        }
        if band.isEmpty { return }
        // Patch rows whose (extended) span meets the band.
        let firstRow = max(0, (band.lowerBound - patchSize) / stride)
        let lastRow = min(rows - 1, (band.upperBound - 1) / stride)
        guard firstRow <= lastRow else { return }
        for ps in firstRow...lastRow {
            let top = ps * stride
            let bottom = ps == rows - 1 ? h : top + patchSize
            let r0 = max(top, band.lowerBound), r1 = min(bottom, band.upperBound)
            if r0 >= r1 { continue }
            for qs in 0..<cols {
                let left = qs * stride
                let right = qs == cols - 1 ? w : left + patchSize
                let pu = sx[ps * cols + qs], pv = sy[ps * cols + qs]
                scatter(i0: i0, i1: i1, u: u, v: v, acc: acc, pu: pu, pv: pv, x0: left, x1: right, y0: r0, y1: r1)
            }
        }
        for y in band {
            let ur = u.row(y), vr = v.row(y), ar = acc.row(y)
            var x = 0
            while x + 8 <= w {
                let inv = 1 / load8(ar + x)
                store8(ur + x, load8(ur + x) * inv)
                store8(vr + x, load8(vr + x) * inv)
                x += 8
            }
            while x < w { let inv = 1 / ar[x]; ur[x] *= inv; vr[x] *= inv; x += 1 }
        }
    }

    @inline(__always)
    private func scatter(i0: PlaneRef, i1: PlaneRef, u: PlaneRef, v: PlaneRef, acc: PlaneRef,
                         pu: Float, pv: Float, x0: Int, x1: Int, y0: Int, y1: Int) {
        let w = i0.width, h = i0.height
        let maxX = Float(w) - 1 - 1e-3, maxY = Float(h) - 1 - 1e-3
        let inside = Float(x0) + pu >= 0 && Float(x1 - 1) + pu <= maxX && Float(y0) + pv >= 0 && Float(y1 - 1) + pv <= maxY
        if inside && x1 - x0 == 8 {
            let fxs = pu.rounded(.down), fys = pv.rounded(.down)
            let dx = Int(fxs), dy = Int(fys), fx = SIMD8(repeating: pu - fxs), fy = SIMD8(repeating: pv - fys)
            let one = SIMD8<Float>(repeating: 1)
            let vu = SIMD8(repeating: pu), vv = SIMD8(repeating: pv)
            for y in y0..<y1 {
                let s = i1.row(y + dy) + x0 + dx
                let a = load8(s), b = load8(s + 1), c = load8(s + i1.stride), d = load8(s + i1.stride + 1)
                let top = a + fx * (b - a), bottom = c + fx * (d - c)
                let diff = top + fy * (bottom - top) - load8(i0.row(y) + x0)
                let magnitude = diff.replacing(with: -diff, where: diff .< 0)
                let weight = one / magnitude.replacing(with: one, where: magnitude .< one)
                let ur = u.row(y) + x0, vr = v.row(y) + x0, ar = acc.row(y) + x0
                store8(ur, load8(ur) + weight * vu)
                store8(vr, load8(vr) + weight * vv)
                store8(ar, load8(ar) + weight)
            }
            return
        }
        for y in y0..<y1 {
            let ur = u.row(y), vr = v.row(y), ar = acc.row(y), i0r = i0.row(y)
            let py = min(max(Float(y) + pv, 0), maxY)
            let iy = Int(py), fy = py - Float(iy)
            let t0 = i1.row(iy), t1 = t0 + i1.stride
            for x in x0..<x1 {
                let px = min(max(Float(x) + pu, 0), maxX)
                let ix = Int(px), fx = px - Float(ix)
                let top = t0[ix] + fx * (t0[ix + 1] - t0[ix]), bottom = t1[ix] + fx * (t1[ix + 1] - t1[ix])
                let diff = top + fy * (bottom - top) - i0r[x]
                let weight = 1 / max(1, abs(diff))
                ur[x] += weight * pu; vr[x] += weight * pv; ar[x] += weight
            }
        }
    }
}
