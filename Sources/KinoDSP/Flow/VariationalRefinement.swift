/// Variational refinement of a dense flow field (the DeepFlow energy as used by DIS, Kroeger et al. 2016).
///
/// Minimises `δ·Ψ(brightness) + γ·Ψ(gradient constancy) + α·Ψ(|∇u|² + |∇v|²)` for an increment
/// (du, dv) around the current flow: lagged robust weights in fixed-point iterations, each solved
/// with red-black SOR. Constants and normalisations follow OpenCV's `VariationalRefinement`
/// (ζ = 0.1, unscaled central differences; ε from the options, 0.01 as in OpenCV 5 DIS) so presets give the same accuracy.
///
/// Layout: plain row-major planes with a one-pixel halo. A red (black) SOR pass updates 8 pixels
/// per step and keeps only the lanes of its colour, which costs spare arithmetic but needs no
/// checkerboard splitting and merging. All SOR half-steps of a fixed-point iteration run as one
/// diagonal wavefront over the rows, so the working set stays in cache.
final class VariationalRefiner {
    let width: Int, height: Int
    let avg, iz, ix, iy, ixx, ixy, iyy, ixz, iyz: Plane
    /// Inverse normalisers of the data terms, fixed per level: 1/(|∇I|²+ζ²), 1/(Ixx²+Ixy²+ζ²), 1/(Iyy²+Ixy²+ζ²).
    let n1, n2, n3: Plane
    let du, dv, wx, wy, a11, a12, a22, b1, b2: Plane
    /// Boundary-row progress of the two SOR bands (half-steps done), for the two-thread split.
    let topProgress = HandoffCounter(), bottomProgress = HandoffCounter()

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        func p() -> Plane { Plane(width: width, height: height, pad: 1) }
        (avg, iz, ix, iy, ixx, ixy, iyy, ixz, iyz) = (p(), p(), p(), p(), p(), p(), p(), p(), p())
        (n1, n2, n3) = (p(), p(), p())
        (du, dv, wx, wy, a11, a12, a22, b1, b2) = (p(), p(), p(), p(), p(), p(), p(), p(), p())
    }

    /// Refines flow planes `u`, `v` in place (frame 0 `i0`, frame 1 `i1` with a replicated halo).
    ///
    /// With a team, rows are cut into a top and a bottom band; the SOR sweeps run pipelined in
    /// each band (see ``sorPipelined(rows:descending:link:halfSteps:omega:)``), the top band on the
    /// worker and the bottom one here, as every other pass splits them, so each core keeps its rows in cache.
    func refine(i0: Plane, i1: Plane, u: Plane, v: Plane, options o: DISOptions, team: WorkerTeam?) {
        precondition(u.stride == du.stride && v.stride == du.stride, "flow planes must share the refiner's layout")
        let t = team
        let bands = t == nil ? 1 : 2
        prepare(i0: i0, i1: i1, u: u, v: v, bands: bands, team: t)
        forEachBand(bands, team: t) { b in
            // Each band clears its rows; the first and last band also the halo row on their side.
            var rows = bandRows(b, of: bands, rows: self.height)
            if b == 0 { rows = (rows.lowerBound - 1)..<rows.upperBound }
            if b == bands - 1 { rows = rows.lowerBound..<(rows.upperBound + 1) }
            self.du.zeroRows(rows); self.dv.zeroRows(rows); self.wx.zeroRows(rows); self.wy.zeroRows(rows)
        }
        let halfSteps = 2 * o.sorIterations
        for _ in 0..<o.variationalIterations {
            forEachBand(bands, team: t) { b in
                self.smoothnessWeights(u: u, v: v, alpha: o.alpha, epsilon: o.epsilon, rows: bandRows(b, of: bands, rows: self.height))
            }
            forEachBand(bands, team: t) { b in
                self.buildSystem(u: u, v: v, gamma: o.gamma, delta: o.delta, epsilon: o.epsilon,
                                 rows: bandRows(b, of: bands, rows: self.height))
            }
            if let t {
                let m = bandRows(1, of: 2, rows: height).lowerBound
                // Both threads are idle here, so the counters' values are settled.
                let top = BandLink(row: m - 1, mine: topProgress, theirs: bottomProgress, theirsBase: bottomProgress.current)
                let bottom = BandLink(row: m, mine: bottomProgress, theirs: topProgress, theirsBase: topProgress.current, account: t)
                t.together({ half in
                    if half == 1 {
                        self.sorPipelined(rows: 0..<m, descending: false, link: top, halfSteps: halfSteps, omega: o.omega)
                    } else {
                        self.sorPipelined(rows: m..<self.height, descending: true, link: bottom, halfSteps: halfSteps, omega: o.omega)
                    }
                }, alone: {
                    // The worker is not there (still waking up): the whole sweep here, same result.
                    self.sorPipelined(rows: 0..<self.height, descending: false, link: nil, halfSteps: halfSteps, omega: o.omega)
                })
            } else {
                sorPipelined(rows: 0..<height, descending: false, link: nil, halfSteps: halfSteps, omega: o.omega)
            }
        }
        forEachBand(bands, team: t) { b in
            for y in bandRows(b, of: bands, rows: self.height) {
                let ur = u.row(y), vr = v.row(y), dur = self.du.row(y), dvr = self.dv.row(y)
                for x in 0..<self.width { ur[x] += dur[x]; vr[x] += dvr[x] }
            }
        }
    }

    /// Warps frame 1 by the flow and takes the derivatives of the mean image and of the difference.
    private func prepare(i0: Plane, i1: Plane, u: Plane, v: Plane, bands: Int, team: WorkerTeam?) {
        let w = width, h = height
        let maxX = Float(w - 1), maxY = Float(h - 1)
        forEachBand(bands, team: team) { b in
            for y in bandRows(b, of: bands, rows: h) {
                let ur = u.row(y), vr = v.row(y), i0r = i0.row(y), ar = self.avg.row(y), zr = self.iz.row(y)
                for x in 0..<w {
                    let px = min(max(Float(x) + ur[x], 0), maxX), py = min(max(Float(y) + vr[x], 0), maxY)
                    let jx = Int(px), jy = Int(py), fx = px - Float(jx), fy = py - Float(jy)
                    let t0 = i1.row(jy) + jx, t1 = t0 + i1.stride
                    let top = t0[0] + fx * (t0[1] - t0[0]), bottom = t1[0] + fx * (t1[1] - t1[0])
                    let warpedValue = top + fy * (bottom - top)
                    ar[x] = 0.5 * (i0r[x] + warpedValue)
                    zr[x] = warpedValue - i0r[x]
                }
            }
            self.avg.replicateSides(rows: bandRows(b, of: bands, rows: h))
            self.iz.replicateSides(rows: bandRows(b, of: bands, rows: h))
        }
        avg.replicateTopBottom(); iz.replicateTopBottom()
        forEachBand(bands, team: team) { b in
            let rows = bandRows(b, of: bands, rows: h)
            self.central(self.avg, x: self.ix, y: self.iy, rows: rows)
            self.central(self.iz, x: self.ixz, y: self.iyz, rows: rows)
            self.ix.replicateSides(rows: rows); self.iy.replicateSides(rows: rows)
        }
        ix.replicateTopBottom(); iy.replicateTopBottom()
        forEachBand(bands, team: team) { b in
            let rows = bandRows(b, of: bands, rows: h)
            self.central(self.ix, x: self.ixx, y: self.ixy, rows: rows)
            self.central(self.iy, x: nil, y: self.iyy, rows: rows)
            self.normalisers(rows: rows)
        }
    }

    /// Inverse normalisers of the brightness and the two gradient-constancy terms.
    private func normalisers(rows: Range<Int>) {
        let zeta2: Float = 0.01
        for y in rows {
            let o = y * ix.stride
            for x in 0..<width {
                let p = o + x
                let gx = ix.origin[p], gy = iy.origin[p], xx = ixx.origin[p], xy = ixy.origin[p], yy = iyy.origin[p]
                n1.origin[p] = 1 / (gx * gx + gy * gy + zeta2)
                n2.origin[p] = 1 / (xx * xx + xy * xy + zeta2)
                n3.origin[p] = 1 / (yy * yy + xy * xy + zeta2)
            }
        }
    }

    /// Unscaled central differences `f(x+1) − f(x−1)` (the halo must already replicate the edge).
    private func central(_ f: Plane, x dx: Plane?, y dy: Plane?, rows: Range<Int>) {
        for y in rows {
            let r = f.row(y), up = r - f.stride, down = r + f.stride
            if let dx { let o = dx.row(y); for x in 0..<width { o[x] = r[x + 1] - r[x - 1] } }
            if let dy { let o = dy.row(y); for x in 0..<width { o[x] = down[x] - up[x] } }
        }
    }
}

import Dispatch
