// Mixed-radix Stockham autosort FFT (radix 4, 2, 3 and a generic odd radix) on split complex data.

import Foundation

/// A precomputed plan for the forward complex DFT `X[k] = Σ x[n]·e^(−2πi·nk/N)` of one size.
///
/// The data are held in split form (separate real and imaginary arrays) so that the inner loops
/// run over contiguous floats and vectorise with `SIMD4<Float>`. The Stockham formulation needs
/// no bit reversal: every stage reads one buffer and writes the other, and the plan reports which
/// of the two holds the result. All twiddles are computed once, in `Double`, when the plan is made.
struct SplitComplexFFT: Sendable {
    /// One pass of the transform: radix `radix` over sub-sequences of length `length`.
    struct Stage: Sendable {
        var radix: Int
        /// Length of each sub-transform this stage splits (`radix × (length / radix)`).
        var length: Int
        /// Distance between consecutive elements of one sub-sequence.
        var stride: Int
        /// Offset of this stage's twiddles in `twiddleRe`/`twiddleIm`: `(length/radix) × (radix−1)` entries.
        var twiddleOffset: Int
    }

    let size: Int
    let stages: [Stage]
    let twiddleRe: [Float]
    let twiddleIm: [Float]
    /// `e^(−2πi·k/p)` for each generic radix `p`, keyed by the stage index; empty for 2, 3, 4.
    let rootsRe: [[Float]]
    let rootsIm: [[Float]]

    /// Makes a plan for `size` points.
    ///
    /// - Parameter size: the transform length, at least 1. Any length works; lengths whose prime
    ///   factors are 2, 3 and 5 are fastest, a large prime factor `p` costs `O(p)` per output.
    init(size: Int) {
        precondition(size >= 1, "FFT size must be positive")
        self.size = size
        var factors: [Int] = []
        var rest = size
        while rest % 4 == 0 { factors.append(4); rest /= 4 }
        for p in [2, 3, 5] { while rest % p == 0 { factors.append(p); rest /= p } }
        var p = 7
        while rest > 1 {
            while rest % p == 0 { factors.append(p); rest /= p }
            p += 2
            if p * p > rest && rest > 1 { factors.append(rest); rest = 1 }
        }
        var stages: [Stage] = []
        var tRe: [Float] = [], tIm: [Float] = []
        var rRe: [[Float]] = [], rIm: [[Float]] = []
        var length = size, stride = 1
        for radix in factors {
            let m = length / radix
            stages.append(Stage(radix: radix, length: length, stride: stride, twiddleOffset: tRe.count))
            for j in 0..<m {
                for r in 1..<radix {
                    let angle = -2.0 * Double.pi * Double(j * r) / Double(length)
                    tRe.append(Float(cos(angle)))
                    tIm.append(Float(sin(angle)))
                }
            }
            if radix > 4 {
                rRe.append((0..<radix).map { Float(cos(-2.0 * Double.pi * Double($0) / Double(radix))) })
                rIm.append((0..<radix).map { Float(sin(-2.0 * Double.pi * Double($0) / Double(radix))) })
            } else {
                rRe.append([]); rIm.append([])
            }
            length = m
            stride *= radix
        }
        self.stages = stages
        twiddleRe = tRe
        twiddleIm = tIm
        rootsRe = rRe
        rootsIm = rIm
    }

    /// Transforms `(re, im)` in place, using `(workRe, workIm)` (each `size` floats) as scratch.
    ///
    /// The result always ends in `(re, im)`; an odd number of stages costs one extra copy.
    func transform(re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>,
                   workRe: UnsafeMutablePointer<Float>, workIm: UnsafeMutablePointer<Float>) {
        var xr = re, xi = im, yr = workRe, yi = workIm
        twiddleRe.withUnsafeBufferPointer { twr in
            twiddleIm.withUnsafeBufferPointer { twi in
                for (index, stage) in stages.enumerated() {
                    let wr = twr.baseAddress! + stage.twiddleOffset
                    let wi = twi.baseAddress! + stage.twiddleOffset
                    switch stage.radix {
                    case 4: Self.radix4(stage, xr, xi, yr, yi, wr, wi)
                    case 2: Self.radix2(stage, xr, xi, yr, yi, wr, wi)
                    case 3: Self.radix3(stage, xr, xi, yr, yi, wr, wi)
                    default:
                        rootsRe[index].withUnsafeBufferPointer { rr in
                            rootsIm[index].withUnsafeBufferPointer { ri in
                                Self.radixGeneric(stage, xr, xi, yr, yi, wr, wi, rr.baseAddress!, ri.baseAddress!)
                            }
                        }
                    }
                    swap(&xr, &yr)
                    swap(&xi, &yi)
                }
            }
        }
        if xr != re {
            re.update(from: xr, count: size)
            im.update(from: xi, count: size)
        }
    }
}
