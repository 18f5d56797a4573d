// Butterfly kernels of the Stockham FFT. Stage layout: input element k of sub-sequence (q, j) sits at
// `q + s·(j + k·m)`, output r at `q + s·(p·j + r)`, with `m = length/p`, `s = stride`.

typealias FloatPointer = UnsafeMutablePointer<Float>
typealias ConstPointer = UnsafePointer<Float>
typealias Vec = SIMD4<Float>

@inline(__always) private func load(_ p: FloatPointer, _ i: Int) -> Vec {
    UnsafeRawPointer(p + i).loadUnaligned(as: Vec.self)
}

@inline(__always) private func store(_ v: Vec, _ p: FloatPointer, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vec.self)
}

extension SplitComplexFFT {
    /// Radix 4: `b0 = t0+t2, b2 = t0−t2, b1 = t1−i·t3, b3 = t1+i·t3`, then twiddled by `w^(j·r)`.
    @inline(__always)
    static func radix4(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                       _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer) {
        let s = st.stride, m = st.length / 4
        if s % 4 == 0 {
            for j in 0..<m {
                let w1r = Vec(repeating: wr[3 * j]), w1i = Vec(repeating: wi[3 * j])
                let w2r = Vec(repeating: wr[3 * j + 1]), w2i = Vec(repeating: wi[3 * j + 1])
                let w3r = Vec(repeating: wr[3 * j + 2]), w3i = Vec(repeating: wi[3 * j + 2])
                let i0 = s * j, i1 = s * (j + m), i2 = s * (j + 2 * m), i3 = s * (j + 3 * m)
                let o0 = 4 * s * j, o1 = o0 + s, o2 = o0 + 2 * s, o3 = o0 + 3 * s
                var q = 0
                while q < s {
                    let a0r = load(xr, i0 + q), a0i = load(xi, i0 + q)
                    let a1r = load(xr, i1 + q), a1i = load(xi, i1 + q)
                    let a2r = load(xr, i2 + q), a2i = load(xi, i2 + q)
                    let a3r = load(xr, i3 + q), a3i = load(xi, i3 + q)
                    let t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i
                    let t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i
                    store(t0r + t2r, yr, o0 + q)
                    store(t0i + t2i, yi, o0 + q)
                    let b1r = t1r + t3i, b1i = t1i - t3r
                    let b2r = t0r - t2r, b2i = t0i - t2i
                    let b3r = t1r - t3i, b3i = t1i + t3r
                    store(b1r * w1r - b1i * w1i, yr, o1 + q)
                    store(b1r * w1i + b1i * w1r, yi, o1 + q)
                    store(b2r * w2r - b2i * w2i, yr, o2 + q)
                    store(b2r * w2i + b2i * w2r, yi, o2 + q)
                    store(b3r * w3r - b3i * w3i, yr, o3 + q)
                    store(b3r * w3i + b3i * w3r, yi, o3 + q)
                    q += 4
                }
            }
            return
        }
        for q in 0..<s {
            for j in 0..<m {
                let w1r = wr[3 * j], w1i = wi[3 * j], w2r = wr[3 * j + 1], w2i = wi[3 * j + 1]
                let w3r = wr[3 * j + 2], w3i = wi[3 * j + 2]
                let i0 = q + s * j, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m
                let o0 = q + 4 * s * j, o1 = o0 + s, o2 = o1 + s, o3 = o2 + s
                let t0r = xr[i0] + xr[i2], t0i = xi[i0] + xi[i2], t1r = xr[i0] - xr[i2], t1i = xi[i0] - xi[i2]
                let t2r = xr[i1] + xr[i3], t2i = xi[i1] + xi[i3], t3r = xr[i1] - xr[i3], t3i = xi[i1] - xi[i3]
                yr[o0] = t0r + t2r
                yi[o0] = t0i + t2i
                let b1r = t1r + t3i, b1i = t1i - t3r
                let b2r = t0r - t2r, b2i = t0i - t2i
                let b3r = t1r - t3i, b3i = t1i + t3r
                yr[o1] = b1r * w1r - b1i * w1i
                yi[o1] = b1r * w1i + b1i * w1r
                yr[o2] = b2r * w2r - b2i * w2i
                yi[o2] = b2r * w2i + b2i * w2r
                yr[o3] = b3r * w3r - b3i * w3i
                yi[o3] = b3r * w3i + b3i * w3r
            }
        }
    }

    /// Radix 2: `b0 = a0+a1`, `b1 = (a0−a1)·w^j`.
    @inline(__always)
    static func radix2(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                       _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer) {
        let s = st.stride, m = st.length / 2
        if s % 4 == 0 {
            for j in 0..<m {
                let w1r = Vec(repeating: wr[j]), w1i = Vec(repeating: wi[j])
                let i0 = s * j, i1 = s * (j + m), o0 = 2 * s * j, o1 = o0 + s
                var q = 0
                while q < s {
                    let a0r = load(xr, i0 + q), a0i = load(xi, i0 + q)
                    let a1r = load(xr, i1 + q), a1i = load(xi, i1 + q)
                    store(a0r + a1r, yr, o0 + q)
                    store(a0i + a1i, yi, o0 + q)
                    let dr = a0r - a1r, di = a0i - a1i
                    store(dr * w1r - di * w1i, yr, o1 + q)
                    store(dr * w1i + di * w1r, yi, o1 + q)
                    q += 4
                }
            }
            return
        }
        for q in 0..<s {
            for j in 0..<m {
                let i0 = q + s * j, i1 = i0 + s * m, o0 = q + 2 * s * j, o1 = o0 + s
                let dr = xr[i0] - xr[i1], di = xi[i0] - xi[i1]
                yr[o0] = xr[i0] + xr[i1]
                yi[o0] = xi[i0] + xi[i1]
                yr[o1] = dr * wr[j] - di * wi[j]
                yi[o1] = dr * wi[j] + di * wr[j]
            }
        }
    }

    /// Radix 3: `b0 = a0+t`, `b1,2 = (a0 − t/2) ∓ i·(√3/2)·(a1−a2)` with `t = a1+a2`.
    @inline(__always)
    static func radix3(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                       _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer) {
        let s = st.stride, m = st.length / 3
        let sin60: Float = 0.866_025_403_784_438_6
        for j in 0..<m {
            let w1r = wr[2 * j], w1i = wi[2 * j], w2r = wr[2 * j + 1], w2i = wi[2 * j + 1]
            for q in 0..<s {
                let i0 = q + s * j, i1 = i0 + s * m, i2 = i1 + s * m
                let o0 = q + 3 * s * j, o1 = o0 + s, o2 = o1 + s
                let tr = xr[i1] + xr[i2], ti = xi[i1] + xi[i2]
                let ur = xr[i0] - 0.5 * tr, ui = xi[i0] - 0.5 * ti
                let vr = sin60 * (xi[i1] - xi[i2]), vi = -sin60 * (xr[i1] - xr[i2])
                yr[o0] = xr[i0] + tr
                yi[o0] = xi[i0] + ti
                let b1r = ur + vr, b1i = ui + vi, b2r = ur - vr, b2i = ui - vi
                yr[o1] = b1r * w1r - b1i * w1i
                yi[o1] = b1r * w1i + b1i * w1r
                yr[o2] = b2r * w2r - b2i * w2i
                yi[o2] = b2r * w2i + b2i * w2r
            }
        }
    }

    /// Any odd radix `p` (5 and larger primes) by the direct `O(p²)` sum over the roots of unity.
    static func radixGeneric(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                             _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer,
                             _ rootRe: UnsafePointer<Float>, _ rootIm: UnsafePointer<Float>) {
        let p = st.radix, s = st.stride, m = st.length / p
        for j in 0..<m {
            for q in 0..<s {
                let base = q + s * j, out = q + p * s * j
                for r in 0..<p {
                    var accR: Float = 0, accI: Float = 0
                    var rk = 0
                    for k in 0..<p {
                        let ar = xr[base + k * s * m], ai = xi[base + k * s * m]
                        accR += ar * rootRe[rk] - ai * rootIm[rk]
                        accI += ar * rootIm[rk] + ai * rootRe[rk]
                        rk += r
                        if rk >= p { rk -= p }
                    }
                    if r == 0 {
                        yr[out] = accR
                        yi[out] = accI
                    } else {
                        let t = j * (p - 1) + r - 1
                        yr[out + r * s] = accR * wr[t] - accI * wi[t]
                        yi[out + r * s] = accR * wi[t] + accI * wr[t]
                    }
                }
            }
        }
    }
}
