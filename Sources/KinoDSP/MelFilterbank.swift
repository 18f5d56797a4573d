import Foundation

/// A frequency ↔ mel mapping.
public enum MelScale: Sendable, Hashable {
    /// Kaldi: `1127·ln(1 + f/700)`.
    case kaldi
    /// HTK: `2595·log10(1 + f/700)` (the same curve as Kaldi's, to four digits).
    case htk
    /// Slaney (librosa's default): linear `3f/200` below 1 kHz, logarithmic with step `ln(6.4)/27` above.
    case slaney

    /// Mels of `hertz`.
    public func mel(_ hertz: Double) -> Double {
        switch self {
        case .kaldi: return 1127.0 * log(1.0 + hertz / 700.0)
        case .htk: return 2595.0 * log10(1.0 + hertz / 700.0)
        case .slaney:
            let linearStep = 200.0 / 3.0, logStep = log(6.4) / 27.0
            if hertz < 1000 { return hertz / linearStep }
            return 15.0 + log(hertz / 1000.0) / logStep
        }
    }

    /// Hertz of `mel` (inverse of ``mel(_:)``).
    public func hertz(_ mel: Double) -> Double {
        switch self {
        case .kaldi: return 700.0 * (exp(mel / 1127.0) - 1.0)
        case .htk: return 700.0 * (pow(10.0, mel / 2595.0) - 1.0)
        case .slaney:
            let linearStep = 200.0 / 3.0, logStep = log(6.4) / 27.0
            if mel < 15 { return mel * linearStep }
            return 1000.0 * exp(logStep * (mel - 15.0))
        }
    }
}

/// Triangular mel filters over the bins of a one-sided spectrum, stored sparsely.
///
/// Each filter keeps only its non-zero span, so applying 128 filters to 257 bins costs about
/// 2 × 257 multiply-adds per frame instead of 128 × 257.
public struct MelFilterbank: Sendable {
    /// Number of filters (output bands).
    public let filterCount: Int
    /// Number of spectrum bins each input frame must have.
    public let binCount: Int
    /// First non-zero bin of each filter.
    let starts: [Int]
    /// Offset of each filter's weights in `weights`; `offsets[filterCount]` is the total.
    let offsets: [Int]
    let weights: [Float]

    /// Builds a filterbank from a dense `[filterCount][binCount]` weight function.
    init(filterCount: Int, binCount: Int, weight: (_ filter: Int, _ bin: Int) -> Float) {
        self.filterCount = filterCount
        self.binCount = binCount
        var starts: [Int] = [], offsets: [Int] = [0], weights: [Float] = []
        for f in 0..<filterCount {
            let row = (0..<binCount).map { weight(f, $0) }
            let first = row.firstIndex { $0 != 0 } ?? 0
            let last = row.lastIndex { $0 != 0 } ?? -1
            starts.append(first)
            if last >= first { weights.append(contentsOf: row[first...last]) }
            offsets.append(weights.count)
        }
        self.starts = starts
        self.offsets = offsets
        self.weights = weights
    }

    /// The filters as a dense row-major `[filterCount, binCount]` matrix (for inspection and tests).
    public var dense: FeatureMatrix {
        var matrix = FeatureMatrix(frames: filterCount, bins: binCount, repeating: 0)
        for f in 0..<filterCount {
            for i in offsets[f]..<offsets[f + 1] { matrix[f, starts[f] + i - offsets[f]] = weights[i] }
        }
        return matrix
    }

    /// Band energies `E_f = Σ_k w_fk · spectrum_k` of one frame.
    ///
    /// - Parameter spectrum: ``binCount`` values (power or magnitude).
    /// - Returns: ``filterCount`` energies.
    public func apply(_ spectrum: [Float]) -> [Float] {
        precondition(spectrum.count == binCount, "spectrum has \(spectrum.count) bins, filterbank wants \(binCount)")
        var out = [Float](repeating: 0, count: filterCount)
        spectrum.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in apply(s.baseAddress!, into: o.baseAddress!) }
        }
        return out
    }

    /// Allocation-free form of ``apply(_:)`` for frame loops.
    func apply(_ spectrum: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        weights.withUnsafeBufferPointer { w in
            starts.withUnsafeBufferPointer { st in
                offsets.withUnsafeBufferPointer { off in
                    for f in 0..<filterCount {
                        let lo = off[f], count = off[f + 1] - lo
                        let s = spectrum + st[f], wf = w.baseAddress! + lo
                        var acc: Float = 0
                        for i in 0..<count { acc += wf[i] * s[i] }
                        out[f] = acc
                    }
                }
            }
        }
    }
}

extension MelFilterbank {
    /// ``apply(_:into:)`` for four lane-interleaved spectra: `spectrum[4k + l]` → `out[4f + l]`.
    func applyFour(_ spectrum: UnsafePointer<Float>, into out: FloatPointer) {
        weights.withUnsafeBufferPointer { w in
            starts.withUnsafeBufferPointer { st in
                offsets.withUnsafeBufferPointer { off in
                    // Wrapping index arithmetic: offsets come from the plan and are in range by construction.
                    for f in 0..<filterCount {
                        let lo = off[f], count = off[f &+ 1] &- lo
                        let s = UnsafeRawPointer(spectrum + (st[f] &<< 2)), wf = w.baseAddress! + lo
                        var acc = Vec()
                        var i = 0
                        while i < count {
                            acc += Vec(repeating: wf[i]) * s.loadUnaligned(fromByteOffset: i &<< 4, as: Vec.self)
                            i = i &+ 1
                        }
                        UnsafeMutableRawPointer(out + (f &<< 2)).storeBytes(of: acc, as: Vec.self)
                    }
                }
            }
        }
    }
}
