// Four transforms at once: element e of transform l sits at float 4·e + l, so every butterfly is a
// plain SIMD4 operation with broadcast twiddles, with no shuffles at any stage.

@inline(__always) private func load(_ p: FloatPointer, _ element: Int) -> Vec {
    UnsafeRawPointer(p + 4 * element).loadUnaligned(as: Vec.self)
}

@inline(__always) private func store(_ v: Vec, _ p: FloatPointer, _ element: Int) {
    UnsafeMutableRawPointer(p + 4 * element).storeBytes(of: v, as: Vec.self)
}

extension SplitComplexFFT {
    /// Whether ``transformFour(re:im:workRe:workIm:)`` can run this plan (radices 4 and 2 only).
    var supportsBatch: Bool { stages.allSatisfy { $0.radix == 4 || $0.radix == 2 } }

    /// Transforms four interleaved sequences in place (each buffer holds `4 × size` floats).
    func transformFour(re: FloatPointer, im: FloatPointer, workRe: FloatPointer, workIm: FloatPointer) {
        var xr = re, xi = im, yr = workRe, yi = workIm
        twiddleRe.withUnsafeBufferPointer { twr in
            twiddleIm.withUnsafeBufferPointer { twi in
                for stage in stages {
                    let wr = twr.baseAddress! + stage.twiddleOffset, wi = twi.baseAddress! + stage.twiddleOffset
                    if stage.radix == 4 {
                        Self.radix4Four(stage, xr, xi, yr, yi, wr, wi)
                    } else {
                        Self.radix2Four(stage, xr, xi, yr, yi, wr, wi)
                    }
                    swap(&xr, &yr)
                    swap(&xi, &yi)
                }
            }
        }
        if xr != re {
            re.update(from: xr, count: 4 * size)
            im.update(from: xi, count: 4 * size)
        }
    }

    @inline(__always)
    static func radix4Four(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                           _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer) {
        let s = st.stride, m = st.length / 4
        for j in 0..<m {
            let w1r = Vec(repeating: wr[3 * j]), w1i = Vec(repeating: wi[3 * j])
            let w2r = Vec(repeating: wr[3 * j + 1]), w2i = Vec(repeating: wi[3 * j + 1])
            let w3r = Vec(repeating: wr[3 * j + 2]), w3i = Vec(repeating: wi[3 * j + 2])
            let i0 = s * j, i1 = s * (j + m), i2 = s * (j + 2 * m), i3 = s * (j + 3 * m)
            let o0 = 4 * s * j, o1 = o0 + s, o2 = o0 + 2 * s, o3 = o0 + 3 * s
            for q in 0..<s {
                let a0r = load(xr, i0 + q), a0i = load(xi, i0 + q), a1r = load(xr, i1 + q), a1i = load(xi, i1 + q)
                let a2r = load(xr, i2 + q), a2i = load(xi, i2 + q), a3r = load(xr, i3 + q), a3i = load(xi, i3 + q)
                let t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i
                let t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i
                store(t0r + t2r, yr, o0 + q)
                store(t0i + t2i, yi, o0 + q)
                let b1r = t1r + t3i, b1i = t1i - t3r, b2r = t0r - t2r, b2i = t0i - t2i
                let b3r = t1r - t3i, b3i = t1i + t3r
                store(b1r * w1r - b1i * w1i, yr, o1 + q)
                store(b1r * w1i + b1i * w1r, yi, o1 + q)
                store(b2r * w2r - b2i * w2i, yr, o2 + q)
                store(b2r * w2i + b2i * w2r, yi, o2 + q)
                store(b3r * w3r - b3i * w3i, yr, o3 + q)
                store(b3r * w3i + b3i * w3r, yi, o3 + q)
            }
        }
    }

    @inline(__always)
    static func radix2Four(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                           _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer) {
        let s = st.stride, m = st.length / 2
        for j in 0..<m {
            let w1r = Vec(repeating: wr[j]), w1i = Vec(repeating: wi[j])
            let i0 = s * j, i1 = s * (j + m), o0 = 2 * s * j, o1 = o0 + s
            for q in 0..<s {
                let a0r = load(xr, i0 + q), a0i = load(xi, i0 + q), a1r = load(xr, i1 + q), a1i = load(xi, i1 + q)
                store(a0r + a1r, yr, o0 + q)
                store(a0i + a1i, yi, o0 + q)
                let dr = a0r - a1r, di = a0i - a1i
                store(dr * w1r - di * w1i, yr, o1 + q)
                store(dr * w1i + di * w1r, yi, o1 + q)
            }
        }
    }
}

extension RealFFT {
    /// Whether ``transformPackedFour(_:_:_:_:_:_:)`` can run this plan: an even size whose half is a power of two.
    var supportsBatch: Bool { size % 2 == 0 && complex.supportsBatch }

    /// Four packed real transforms at once, lane-interleaved (see ``transformPacked(_:_:_:_:_:_:)``):
    /// `zr`, `zi`, `wr`, `wi` hold `4 × size/2` floats, `outR`, `outI` hold `4 × binCount`.
    func transformPackedFour(_ zr: FloatPointer, _ zi: FloatPointer, _ wr: FloatPointer, _ wi: FloatPointer,
                             _ outR: FloatPointer, _ outI: FloatPointer) {
        let half = size / 2
        complex.transformFour(re: zr, im: zi, workRe: wr, workIm: wi)
        let z0r = load(zr, 0), z0i = load(zi, 0)
        store(z0r + z0i, outR, 0)
        store(Vec(), outI, 0)
        store(z0r - z0i, outR, half)
        store(Vec(), outI, half)
        let oneHalf = Vec(repeating: 0.5)
        splitRe.withUnsafeBufferPointer { cr in
            splitIm.withUnsafeBufferPointer { ci in
                var k = 1
                while k < half {
                    let ar = load(zr, k), ai = load(zi, k), br = load(zr, half - k), bi = -load(zi, half - k)
                    let er = oneHalf * (ar + br), ei = oneHalf * (ai + bi)
                    let or = oneHalf * (ai - bi), oi = -oneHalf * (ar - br)
                    let c = Vec(repeating: cr[k]), d = Vec(repeating: ci[k])
                    store(er + or * c - oi * d, outR, k)
                    store(ei + or * d + oi * c, outI, k)
                    k += 1
                }
            }
        }
    }
}

/// Transposes a 4×4 block: returns the columns of the rows `a`, `b`, `c`, `d`.
@inline(__always)
func transpose(_ a: Vec, _ b: Vec, _ c: Vec, _ d: Vec) -> (Vec, Vec, Vec, Vec) {
    (Vec(a[0], b[0], c[0], d[0]), Vec(a[1], b[1], c[1], d[1]),
     Vec(a[2], b[2], c[2], d[2]), Vec(a[3], b[3], c[3], d[3]))
}
