import Foundation

/// A reusable plan for the forward DFT of a real signal, returning bins `0...size/2`.
///
/// An even size packs the signal into a complex sequence of half the length (even samples as real
/// parts, odd samples as imaginary parts), transforms that, and separates the two halves with one
/// twiddle per bin — half the work of a complex transform. An odd size runs the full-length complex
/// transform. Plans are immutable and `Sendable`; the mutable state lives in ``Workspace``, one per
/// thread, so a frame loop allocates nothing.
///
/// ```swift
/// let fft = RealFFT(size: 512)
/// var work = fft.makeWorkspace()
/// fft.forward(frame, workspace: &work)   // work.real[k], work.imag[k] for k in 0...256
/// ```
public struct RealFFT: Sendable {
    /// Scratch and output buffers for one thread; results are read from ``real`` and ``imag``.
    public struct Workspace: Sendable {
        /// Real parts of bins `0...size/2` after ``RealFFT/forward(_:workspace:)``.
        public internal(set) var real: [Float]
        /// Imaginary parts of bins `0...size/2`.
        public internal(set) var imag: [Float]
        var packedRe: [Float]
        var packedIm: [Float]
        var workRe: [Float]
        var workIm: [Float]
    }

    /// Number of input samples.
    public let size: Int
    /// Number of output bins, `size/2 + 1`.
    public var binCount: Int { size / 2 + 1 }

    let complex: SplitComplexFFT
    /// `e^(−2πi·k/size)` for `k in 0..<size/2` (even sizes only).
    let splitRe: [Float]
    let splitIm: [Float]

    /// Makes a plan for `size` real samples.
    ///
    /// - Parameter size: at least 1; sizes made of the factors 2, 3 and 5 are fastest.
    public init(size: Int) {
        precondition(size >= 1, "FFT size must be positive")
        self.size = size
        if size % 2 == 0 {
            let half = size / 2
            complex = SplitComplexFFT(size: half)
            splitRe = (0..<half).map { Float(cos(-2.0 * Double.pi * Double($0) / Double(size))) }
            splitIm = (0..<half).map { Float(sin(-2.0 * Double.pi * Double($0) / Double(size))) }
        } else {
            complex = SplitComplexFFT(size: size)
            splitRe = []
            splitIm = []
        }
    }

    /// Allocates the buffers one thread needs to run this plan.
    public func makeWorkspace() -> Workspace {
        let n = complex.size
        return Workspace(real: [Float](repeating: 0, count: binCount), imag: [Float](repeating: 0, count: binCount),
                         packedRe: [Float](repeating: 0, count: n), packedIm: [Float](repeating: 0, count: n),
                         workRe: [Float](repeating: 0, count: n), workIm: [Float](repeating: 0, count: n))
    }

    /// Transforms `input` (exactly ``size`` samples) into `workspace.real` / `workspace.imag`.
    ///
    /// - Parameters:
    ///   - input: the real signal; its count must equal ``size``.
    ///   - workspace: buffers from ``makeWorkspace()``, reused across calls.
    public func forward(_ input: [Float], workspace: inout Workspace) {
        precondition(input.count == size, "RealFFT input must have exactly \(size) samples")
        let even = size % 2 == 0
        input.withUnsafeBufferPointer { x in
            workspace.packedRe.withUnsafeMutableBufferPointer { pr in
                workspace.packedIm.withUnsafeMutableBufferPointer { pi in
                    if even {
                        for j in 0..<(size / 2) {
                            pr[j] = x[2 * j]
                            pi[j] = x[2 * j + 1]
                        }
                    } else {
                        for j in 0..<size {
                            pr[j] = x[j]
                            pi[j] = 0
                        }
                    }
                }
            }
        }
        forwardPacked(workspace: &workspace)
    }

    /// Runs the transform on data already packed into `workspace.packedRe/packedIm`.
    ///
    /// For an even size the caller writes sample `2j` to `packedRe[j]` and `2j+1` to `packedIm[j]`;
    /// for an odd size the samples go to `packedRe` and `packedIm` is zero. The packed arrays are clobbered.
    func forwardPacked(workspace: inout Workspace) {
        workspace.packedRe.withUnsafeMutableBufferPointer { pr in
        workspace.packedIm.withUnsafeMutableBufferPointer { pi in
        workspace.workRe.withUnsafeMutableBufferPointer { wr in
        workspace.workIm.withUnsafeMutableBufferPointer { wi in
        workspace.real.withUnsafeMutableBufferPointer { outR in
        workspace.imag.withUnsafeMutableBufferPointer { outI in
            transformPacked(pr.baseAddress!, pi.baseAddress!, wr.baseAddress!, wi.baseAddress!,
                            outR.baseAddress!, outI.baseAddress!)
        }}}}}}
    }

    /// Pointer form of ``forwardPacked(workspace:)`` for frame loops that own their scratch:
    /// `zr`, `zi`, `wr`, `wi` hold `complex.size` floats, `outR`, `outI` hold ``binCount``.
    func transformPacked(_ zr: FloatPointer, _ zi: FloatPointer, _ wr: FloatPointer, _ wi: FloatPointer,
                         _ outR: FloatPointer, _ outI: FloatPointer) {
        let half = size / 2
        complex.transform(re: zr, im: zi, workRe: wr, workIm: wi)
        guard size % 2 == 0 else {
            for k in 0...half {
                outR[k] = zr[k]
                outI[k] = zi[k]
            }
            return
        }
        // X[k] = E[k] + W^k·O[k], with E = (Z[k] + conj Z[h−k])/2 and O = −i·(Z[k] − conj Z[h−k])/2.
        splitRe.withUnsafeBufferPointer { cr in
            splitIm.withUnsafeBufferPointer { ci in
                outR[0] = zr[0] + zi[0]
                outI[0] = 0
                outR[half] = zr[0] - zi[0]
                outI[half] = 0
                var k = 1
                while k < half {
                    let ar = zr[k], ai = zi[k], br = zr[half - k], bi = -zi[half - k]
                    let er = 0.5 * (ar + br), ei = 0.5 * (ai + bi)
                    let or = 0.5 * (ai - bi), oi = -0.5 * (ar - br)
                    outR[k] = er + or * cr[k] - oi * ci[k]
                    outI[k] = ei + or * ci[k] + oi * cr[k]
                    k += 1
                }
            }
        }
    }
}
