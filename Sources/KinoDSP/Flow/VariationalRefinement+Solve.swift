/// The per-iteration passes of ``VariationalRefiner``: robust smoothness weights, the 2×2 system
/// per pixel, and masked red-black SOR sweeps.
extension VariationalRefiner {
    /// Smoothness weight `α/2 / sqrt(|∇(u+du)|² + |∇(v+dv)|² + ε²)` per pixel from forward
    /// differences (zero across the right and bottom edges); `wx` is the weight of the edge to the
    /// right neighbour, `wy` to the one below (zero where there is none).
    func smoothnessWeights(u: Plane, v: Plane, alpha: Float, epsilon: Float, rows: Range<Int>) {
        let w = width, h = height, half = alpha / 2, eps2 = epsilon * epsilon
        for y in rows {
            let s = u.stride
            let ur = u.row(y), vr = v.row(y), dur = du.row(y), dvr = dv.row(y), wxr = wx.row(y), wyr = wy.row(y)
            let lastRow = y == h - 1
            var x = 0
            while x < w {
                let cu = load8(ur + x) + load8(dur + x), cv = load8(vr + x) + load8(dvr + x)
                let ux = load8(ur + x + 1) + load8(dur + x + 1) - cu, vx = load8(vr + x + 1) + load8(dvr + x + 1) - cv
                var uy = SIMD8<Float>.zero, vy = SIMD8<Float>.zero
                if !lastRow {
                    uy = load8(ur + x + s) + load8(dur + x + s) - cu
                    vy = load8(vr + x + s) + load8(dvr + x + s) - cv
                }
                let weight = half * rsqrt8(ux * ux + vx * vx + uy * uy + vy * vy + eps2)
                store8(wxr + x, weight)
                store8(wyr + x, lastRow ? .zero : weight)
                x += 8
            }
            // Right edge: no right neighbour (replicated, so the x-difference is zero); tidy the overrun.
            let e = w - 1
            var uy: Float = 0, vy: Float = 0
            if !lastRow { uy = ur[e + s] + dur[e + s] - ur[e] - dur[e]; vy = vr[e + s] + dvr[e + s] - vr[e] - dvr[e] }
            let edgeWeight = half / (uy * uy + vy * vy + eps2).squareRoot()
            wxr[e] = 0
            wyr[e] = lastRow ? 0 : edgeWeight
            for k in w..<(w + 8) { wxr[k] = 0; wyr[k] = 0 }
        }
    }

    /// Data term (brightness and gradient constancy, linearised around the current increment)
    /// plus the smoothness couplings, as `A = [a11 a12; a12 a22]` and `b` per pixel; stores
    /// `1/a11` and `1/a22` so the SOR sweeps multiply instead of divide.
    func buildSystem(u: Plane, v: Plane, gamma: Float, delta: Float, epsilon: Float, rows: Range<Int>) {
        let zeta2: Float = 0.01, eps2 = epsilon * epsilon, g2 = SIMD8(repeating: gamma / 2), d2 = SIMD8(repeating: delta / 2)
        let z = SIMD8<Float>(repeating: zeta2), e = SIMD8<Float>(repeating: eps2)
        let s = u.stride
        for y in rows {
            var x = 0
            let o = y * s
            while x < width {
                let p = o + x
                let Ix = load8(ix.origin + p), Iy = load8(iy.origin + p), Iz = load8(iz.origin + p)
                let dU = load8(du.origin + p), dV = load8(dv.origin + p)
                let norm1 = load8(n1.origin + p)
                let k1z = Iz + Ix * dU + Iy * dV
                var weight = d2 * norm1 * rsqrt8(k1z * k1z * norm1 + e)
                var A11 = weight * Ix * Ix + z, A12 = weight * Ix * Iy, A22 = weight * Iy * Iy + z
                var B1 = -weight * Iz * Ix, B2 = -weight * Iz * Iy

                let Ixx = load8(ixx.origin + p), Ixy = load8(ixy.origin + p), Iyy = load8(iyy.origin + p)
                let Ixz = load8(ixz.origin + p), Iyz = load8(iyz.origin + p)
                let norm = load8(n2.origin + p), norm2 = load8(n3.origin + p)
                let k1zx = Ixz + Ixx * dU + Ixy * dV, k1zy = Iyz + Ixy * dU + Iyy * dV
                weight = g2 * rsqrt8(k1zx * k1zx * norm + k1zy * k1zy * norm2 + e)
                A11 += weight * (Ixx * Ixx * norm + Ixy * Ixy * norm2)
                A12 += weight * (Ixx * Ixy * norm + Ixy * Iyy * norm2)
                A22 += weight * (Ixy * Ixy * norm + Iyy * Iyy * norm2)
                B1 -= weight * (Ixx * Ixz * norm + Ixy * Iyz * norm2)
                B2 -= weight * (Ixy * Ixz * norm + Iyy * Iyz * norm2)

                let wr = load8(wx.origin + p), wl = load8(wx.origin + p - 1)
                let wd = load8(wy.origin + p), wu = load8(wy.origin + p - s)
                let sum = wr + wl + wd + wu
                let U = load8(u.origin + p), V = load8(v.origin + p)
                B1 += coupling(u.origin + p, U, wr, wl, wd, wu, s)
                B2 += coupling(v.origin + p, V, wr, wl, wd, wu, s)
                store8(a11.origin + p, 1 / (A11 + sum))
                store8(a12.origin + p, A12)
                store8(a22.origin + p, 1 / (A22 + sum))
                store8(b1.origin + p, B1)
                store8(b2.origin + p, B2)
                x += 8
            }
        }
    }

    /// `Σ w·(f(neighbour) − f(p))` over the four neighbours of `p`.
    @inline(__always)
    private func coupling(_ f: UnsafeMutablePointer<Float>, _ c: SIMD8<Float>, _ wr: SIMD8<Float>, _ wl: SIMD8<Float>,
                          _ wd: SIMD8<Float>, _ wu: SIMD8<Float>, _ s: Int) -> SIMD8<Float> {
        let right: SIMD8<Float> = wr * (load8(f + 1) - c)
        let left: SIMD8<Float> = wl * (load8(f - 1) - c)
        let down: SIMD8<Float> = wd * (load8(f + s) - c)
        let up: SIMD8<Float> = wu * (load8(f - s) - c)
        return (right + left) + (down + up)
    }

    /// All `halfSteps` red-black half-steps (red first) over `rows` as a diagonal wavefront: at
    /// step s, half-step k updates row s − k. Row r at half-step k reads rows r ± 1 after exactly
    /// k − 1 half-steps, which the order guarantees, so the result equals sweeping the whole image
    /// colour by colour, while only about `halfSteps` rows are live in cache.
    ///
    /// With a `link`, the rows are one of two bands swept at once from opposite ends (top band
    /// downwards, bottom band upwards), meeting at the boundary in their last steps. Before its
    /// boundary row takes half-step k, a band waits until the other band's boundary row has taken
    /// k half-steps, then reports its own; the other band's row can be at most one half-step
    /// ahead, which only rewrites pixels this half-step does not read. So each band reads exactly
    /// what a whole-image sweep would, and the split result equals the one-thread result bit for bit.
    func sorPipelined(rows: Range<Int>, descending: Bool, link: BandLink?, halfSteps: Int, omega: Float) {
        let n = rows.count
        precondition(link == nil || n > 0, "an empty SOR band would leave the other band waiting at the boundary")
        if n == 0 || halfSteps == 0 { return }
        // Raw pointers taken once: reading the planes through `self` in the row loop retained and
        // released each of them per row (5 % of the flow's time).
        let kernel = SORKernel(self, omega: omega)
        let boundary = link?.row ?? Int.min   // touching `link` itself per row would retain its counters
        for s in 0..<(n + halfSteps - 1) {
            for k in max(0, s - n + 1)...min(halfSteps - 1, s) {
                let r = s - k
                let y = descending ? rows.upperBound - 1 - r : rows.lowerBound + r
                if y == boundary, let link {
                    if let team = link.account {
                        let start = DispatchTime.now().uptimeNanoseconds
                        link.theirs.wait(untilAtLeast: link.theirsBase + k)
                        team.addWait(DispatchTime.now().uptimeNanoseconds - start)
                    } else {
                        link.theirs.wait(untilAtLeast: link.theirsBase + k)
                    }
                    kernel.row(y, colour: k & 1)
                    link.mine.raise()
                } else {
                    kernel.row(y, colour: k & 1)
                }
            }
        }
    }
}

/// The planes one SOR sweep reads and writes, as raw pointers (no reference counting in the loop).
struct SORKernel {
    let du, dv, wx, wy, a11, a12, a22, b1, b2: UnsafeMutablePointer<Float>
    let stride: Int, width: Int
    let omega: Float

    init(_ r: VariationalRefiner, omega: Float) {
        (du, dv, wx, wy) = (r.du.origin, r.dv.origin, r.wx.origin, r.wy.origin)
        (a11, a12, a22, b1, b2) = (r.a11.origin, r.a12.origin, r.a22.origin, r.b1.origin, r.b2.origin)
        stride = r.du.stride
        width = r.width
        self.omega = omega
    }

    /// One over-relaxed Gauss-Seidel update of the pixels of row `y` with `(x + y) % 2 == colour`.
    @inline(__always)
    func row(_ y: Int, colour: Int) {
        let s = stride, w = width
        let om = SIMD8<Float>(repeating: omega)
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        let rowMask = (lanes & 1) .== Int32((y + colour) & 1)
        let uMid = du + y * s, vMid = dv + y * s
        let uUp = uMid - s, vUp = vMid - s, uDown = uMid + s, vDown = vMid + s
        let wx0 = wx, wy0 = wy
        let a110 = a11, a120 = a12, a220 = a22, b10 = b1, b20 = b2
        var x = 0
        let o = y * s
        // Left neighbours come from the previous chunk's registers: reloading them would straddle
        // the store just made and stall on store forwarding. They are the other colour, which this
        // pass does not change, so the pre-update values are the right ones.
        var prevU = SIMD8<Float>.zero, prevV = SIMD8<Float>.zero
        while x < w {
            var mask = rowMask
            if x + 8 > w { mask = mask .& (lanes .< Int32(w - x)) }
            let p = o + x
            let wr = load8(wx0 + p), wl = load8(wx0 + p - 1)
            let wd = load8(wy0 + p), wu = load8(wy0 + p - s)
            let U = uMid + x, V = vMid + x
            let u0 = load8(U), v0 = load8(V), c = load8(a120 + p)
            let leftU = shiftedRight(prevU, u0), leftV = shiftedRight(prevV, v0)
            // Fused multiply-adds (vfmadd on AVX2); same maths as OpenCV's update.
            let sigmaU = (wl * leftU).addingProduct(wr, load8(U + 1)).addingProduct(wu, load8(uUp + x))
                .addingProduct(wd, load8(uDown + x))
            let sigmaV = (wl * leftV).addingProduct(wr, load8(V + 1)).addingProduct(wu, load8(vUp + x))
                .addingProduct(wd, load8(vDown + x))
            let gu = (sigmaU + load8(b10 + p)).addingProduct(-c, v0) * load8(a110 + p)
            let u1 = u0.addingProduct(om, gu - u0)
            let gv = (sigmaV + load8(b20 + p)).addingProduct(-c, u1) * load8(a220 + p)
            let v1 = v0.addingProduct(om, gv - v0)
            store8(U, u0.replacing(with: u1, where: mask))
            store8(V, v0.replacing(with: v1, where: mask))
            prevU = u0; prevV = v0
            x += 8
        }
    }
}

/// One SOR band's view of the boundary it shares with the other band (see
/// ``VariationalRefiner/sorPipelined(rows:descending:link:halfSteps:omega:)``).
struct BandLink {
    /// This band's row next to the boundary.
    let row: Int
    /// Raised once per half-step done on this band's boundary row; the other band's counter.
    let mine: HandoffCounter, theirs: HandoffCounter
    /// `theirs` before this sweep: the other boundary row has taken `theirs − theirsBase` half-steps.
    let theirsBase: Int
    /// The caller's band: where to count the time spent waiting for the worker's band.
    var account: WorkerTeam? = nil
}

/// `(a[7], b[0], …, b[6])`: the vector one element to the left of `b`.
@inline(__always)
private func shiftedRight(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    SIMD8(a[7], b[0], b[1], b[2], b[3], b[4], b[5], b[6])
}

import Dispatch
