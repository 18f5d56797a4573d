// Four transforms at once: element e of transform l sits at float 4·e + l, so every butterfly is a
// plain SIMD4 operation with broadcast twiddles, with no shuffles at any stage.

// Index arithmetic here uses wrapping operators: every index is below 4 × size by construction, and
// Swift's overflow checks in these loops cost as much as the butterflies.

@inline(__always) private func load(_ p: FloatPointer, _ element: Int) -> Vec {
    UnsafeRawPointer(p + (element &<< 2)).loadUnaligned(as: Vec.self)
}

@inline(__always) private func store(_ v: Vec, _ p: FloatPointer, _ element: Int) {
    UnsafeMutableRawPointer(p + (element &<< 2)).storeBytes(of: v, as: Vec.self)
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
        let s = st.stride, m = st.length / 4, sm = s &* m
        for j in 0..<m {
            // Sub-sequence j: inputs at s·(j + k·m) + q, outputs at s·(4j + r) + q.
            let a0r = xr + ((s &* j) &<< 2), a0i = xi + ((s &* j) &<< 2)
            let a1r = a0r + (sm &<< 2), a1i = a0i + (sm &<< 2)
            let a2r = a1r + (sm &<< 2), a2i = a1i + (sm &<< 2)
            let a3r = a2r + (sm &<< 2), a3i = a2i + (sm &<< 2)
            let b0r = yr + ((s &* j) &<< 4), b0i = yi + ((s &* j) &<< 4)
            let b1r = b0r + (s &<< 2), b1i = b0i + (s &<< 2)
            let b2r = b1r + (s &<< 2), b2i = b1i + (s &<< 2)
            let b3r = b2r + (s &<< 2), b3i = b2i + (s &<< 2)
            if j == 0 {
                // Unit twiddles (all of the last stage): no complex products.
                for q in 0..<s {
                    let (t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i) = Self.twoByTwo(
                        load(a0r, q), load(a0i, q), load(a1r, q), load(a1i, q),
                        load(a2r, q), load(a2i, q), load(a3r, q), load(a3i, q))
                    store(t0r + t2r, b0r, q)
                    store(t0i + t2i, b0i, q)
                    store(t1r + t3i, b1r, q)
                    store(t1i - t3r, b1i, q)
                    store(t0r - t2r, b2r, q)
                    store(t0i - t2i, b2i, q)
                    store(t1r - t3i, b3r, q)
                    store(t1i + t3r, b3i, q)
                }
                continue
            }
            let w = 3 &* j
            let w1r = Vec(repeating: wr[w]), w1i = Vec(repeating: wi[w])
            let w2r = Vec(repeating: wr[w &+ 1]), w2i = Vec(repeating: wi[w &+ 1])
            let w3r = Vec(repeating: wr[w &+ 2]), w3i = Vec(repeating: wi[w &+ 2])
            for q in 0..<s {
                let (t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i) = Self.twoByTwo(
                    load(a0r, q), load(a0i, q), load(a1r, q), load(a1i, q),
                    load(a2r, q), load(a2i, q), load(a3r, q), load(a3i, q))
                store(t0r + t2r, b0r, q)
                store(t0i + t2i, b0i, q)
                let c1r = t1r + t3i, c1i = t1i - t3r, c2r = t0r - t2r, c2i = t0i - t2i
                let c3r = t1r - t3i, c3i = t1i + t3r
                store(c1r * w1r - c1i * w1i, b1r, q)
                store(c1r * w1i + c1i * w1r, b1i, q)
                store(c2r * w2r - c2i * w2i, b2r, q)
                store(c2r * w2i + c2i * w2r, b2i, q)
                store(c3r * w3r - c3i * w3i, b3r, q)
                store(c3r * w3i + c3i * w3r, b3i, q)
            }
        }
    }

    /// The sums and differences of a radix-4 butterfly: `t0 = a0+a2, t1 = a0−a2, t2 = a1+a3, t3 = a1−a3`.
    @inline(__always)
    static func twoByTwo(_ a0r: Vec, _ a0i: Vec, _ a1r: Vec, _ a1i: Vec, _ a2r: Vec, _ a2i: Vec, _ a3r: Vec, _ a3i: Vec)
        -> (Vec, Vec, Vec, Vec, Vec, Vec, Vec, Vec) {
        (a0r + a2r, a0i + a2i, a0r - a2r, a0i - a2i, a1r + a3r, a1i + a3i, a1r - a3r, a1i - a3i)
    }

    @inline(__always)
    static func radix2Four(_ st: Stage, _ xr: FloatPointer, _ xi: FloatPointer, _ yr: FloatPointer,
                           _ yi: FloatPointer, _ wr: ConstPointer, _ wi: ConstPointer) {
        let s = st.stride, m = st.length / 2
        for j in 0..<m {
            let w1r = Vec(repeating: wr[j]), w1i = Vec(repeating: wi[j])
            let a0r = xr + ((s &* j) &<< 2), a0i = xi + ((s &* j) &<< 2)
            let a1r = a0r + ((s &* m) &<< 2), a1i = a0i + ((s &* m) &<< 2)
            let b0r = yr + ((s &* j) &<< 3), b0i = yi + ((s &* j) &<< 3)
            let b1r = b0r + (s &<< 2), b1i = b0i + (s &<< 2)
            for q in 0..<s {
                let xr0 = load(a0r, q), xi0 = load(a0i, q), xr1 = load(a1r, q), xi1 = load(a1i, q)
                store(xr0 + xr1, b0r, q)
                store(xi0 + xi1, b0i, q)
                let dr = xr0 - xr1, di = xi0 - xi1
                store(dr * w1r - di * w1i, b1r, q)
                store(dr * w1i + di * w1r, b1i, q)
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
