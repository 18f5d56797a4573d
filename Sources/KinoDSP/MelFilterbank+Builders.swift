import Foundation

/// How each mel filter is scaled.
public enum MelNorm: Sendable, Hashable {
    /// Peak 1 (HTK, Kaldi, torchaudio's default).
    case none
    /// Slaney's area normalisation: each triangle is scaled by `2 / (f_right − f_left)` (Hz).
    case slaney
}

extension MelFilterbank {
    /// Kaldi's filterbank as `torchaudio.compliance.kaldi.get_mel_banks` builds it (no VTLN warp).
    ///
    /// Triangles are equally spaced on the Kaldi mel scale between `lowFrequency` and
    /// `highFrequency`, evaluated at FFT bins `0..<fftSize/2` (Nyquist excluded), and a zero
    /// column is appended for the Nyquist bin. Intermediates are `Float`, as torchaudio's are.
    ///
    /// - Parameters:
    ///   - filterCount: number of filters, more than 3.
    ///   - fftSize: the even padded frame length.
    ///   - sampleRate: in Hz.
    ///   - lowFrequency: lower edge in Hz, `0 ≤ low < Nyquist`.
    ///   - highFrequency: upper edge in Hz; `≤ 0` means Nyquist plus this (negative) offset.
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for out-of-range edges or counts.
    public static func kaldi(filterCount: Int, fftSize: Int, sampleRate: Double,
                             lowFrequency: Double, highFrequency: Double) throws -> MelFilterbank {
        try require(filterCount > 3, "num_mel_bins", filterCount, "must have at least 3 mel bins")
        try require(fftSize % 2 == 0 && fftSize > 0, "padded window size", fftSize, "must be even")
        let nyquist = 0.5 * sampleRate
        let high = highFrequency <= 0 ? highFrequency + nyquist : highFrequency
        try require(lowFrequency >= 0 && lowFrequency < nyquist, "low_freq", lowFrequency,
                    "must lie in [0, \(nyquist))")
        try require(high > 0 && high <= nyquist && lowFrequency < high, "high_freq", highFrequency,
                    "resolves to \(high) Hz, which must lie in (low_freq, \(nyquist)]")
        let binWidth = Float(sampleRate / Double(fftSize))
        let melLow = MelScale.kaldi.mel(lowFrequency), melHigh = MelScale.kaldi.mel(high)
        let delta = Float((melHigh - melLow) / Double(filterCount + 1))
        let low = Float(melLow)
        let binMels = (0..<(fftSize / 2)).map { j -> Float in
            1127 * log(1 + binWidth * Float(j) / 700)
        }
        return MelFilterbank(filterCount: filterCount, binCount: fftSize / 2 + 1) { f, j in
            guard j < fftSize / 2 else { return 0 }
            let left = low + Float(f) * delta
            let center = low + Float(f + 1) * delta
            let right = low + Float(f + 2) * delta
            let up = (binMels[j] - left) / (center - left)
            let down = (right - binMels[j]) / (right - center)
            return max(0, min(up, down))
        }
    }

    /// The filterbank of `torchaudio.functional.melscale_fbanks` (and librosa): triangles in Hz
    /// between mel-spaced corner frequencies, over `binCount` bins spanning `0…sampleRate/2`.
    ///
    /// - Parameters:
    ///   - binCount: one-sided spectrum bins, `nFFT/2 + 1`.
    ///   - sampleRate: in Hz.
    ///   - minFrequency: lowest corner in Hz.
    ///   - maxFrequency: highest corner in Hz; `nil` means `sampleRate/2`.
    ///   - filterCount: number of filters.
    ///   - scale: the mel curve used to place the corners.
    ///   - norm: peak 1 or Slaney area normalisation.
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for inconsistent ranges.
    public static func triangular(binCount: Int, sampleRate: Double, minFrequency: Double = 0,
                                  maxFrequency: Double? = nil, filterCount: Int,
                                  scale: MelScale = .htk, norm: MelNorm = .none) throws -> MelFilterbank {
        let fMax = maxFrequency ?? sampleRate / 2
        try require(filterCount >= 1, "n_mels", filterCount, "must be positive")
        try require(binCount >= 2, "n_freqs", binCount, "must be at least 2")
        try require(minFrequency >= 0 && minFrequency < fMax, "f_min", minFrequency, "must lie in [0, f_max)")
        // torchaudio spaces the bins over 0…sample_rate // 2 (integer division).
        let top = (sampleRate / 2).rounded(.down)
        let binHz = (0..<binCount).map { top * Double($0) / Double(binCount - 1) }
        let mMin = scale.mel(minFrequency), mMax = scale.mel(fMax)
        let corners = (0..<(filterCount + 2)).map {
            scale.hertz(mMin + (mMax - mMin) * Double($0) / Double(filterCount + 1))
        }
        return MelFilterbank(filterCount: filterCount, binCount: binCount) { f, k in
            let down = (binHz[k] - corners[f]) / (corners[f + 1] - corners[f])
            let up = (corners[f + 2] - binHz[k]) / (corners[f + 2] - corners[f + 1])
            var w = max(0, min(down, up))
            if norm == .slaney { w *= 2 / (corners[f + 2] - corners[f]) }
            return Float(w)
        }
    }
}
