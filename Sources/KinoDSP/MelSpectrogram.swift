// Follows torchaudio.transforms.MelSpectrogram, AmplitudeToDB and MFCC (torchaudio 2.5).

import Foundation

/// Mel spectrogram, `[frames, melCount]`: a ``Spectrogram`` through a ``MelFilterbank``.
///
/// With the defaults this is `torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=400,
/// n_mels=128)` transposed to time-major. For Kaldi-compatible features use ``KaldiFbank``.
public struct MelSpectrogram: Sendable {
    /// The STFT stage.
    public let spectrogram: Spectrogram
    /// The filters, over the STFT's bins.
    public let filterbank: MelFilterbank

    /// Builds the STFT and its filterbank.
    ///
    /// - Parameters:
    ///   - options: STFT options (sample rate, FFT size, window, hop, centring, power).
    ///   - melCount: number of mel bands (`n_mels`).
    ///   - minFrequency: lowest filter corner in Hz (`f_min`).
    ///   - maxFrequency: highest corner in Hz (`f_max`); `nil` means Nyquist.
    ///   - scale: HTK (torchaudio's default), Slaney or Kaldi mel curve.
    ///   - norm: peak-1 or Slaney area normalisation.
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for inconsistent options.
    public init(options: SpectrogramOptions = SpectrogramOptions(), melCount: Int = 128, minFrequency: Double = 0,
                maxFrequency: Double? = nil, scale: MelScale = .htk, norm: MelNorm = .none) throws {
        spectrogram = try Spectrogram(options: options)
        filterbank = try .triangular(binCount: spectrogram.binCount, sampleRate: options.sampleRate,
                                     minFrequency: minFrequency, maxFrequency: maxFrequency,
                                     filterCount: melCount, scale: scale, norm: norm)
    }

    /// Mel band energies of every frame.
    public func compute(_ samples: [Float]) -> FeatureMatrix {
        let spectrum = spectrogram.compute(samples)
        var out = [Float](repeating: 0, count: spectrum.frames * filterbank.filterCount)
        spectrum.values.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for t in 0..<spectrum.frames {
                    filterbank.apply(s.baseAddress! + t * spectrum.bins, into: o.baseAddress! + t * filterbank.filterCount)
                }
            }
        }
        return FeatureMatrix(frames: spectrum.frames, bins: filterbank.filterCount, values: out)
    }
}

extension Spectrogram {
    /// Decibels as `torchaudio.transforms.AmplitudeToDB` computes them (reference 1).
    ///
    /// `multiplier · log10(max(x, amin))`, then, with `topDB`, raised to at least the matrix's
    /// maximum minus `topDB`. Silence becomes `multiplier · log10(amin)` (−100 dB for power), never −∞.
    ///
    /// - Parameters:
    ///   - values: a power (use `multiplier` 10) or magnitude (20) spectrogram.
    ///   - multiplier: 10 for power, 20 for magnitude.
    ///   - amin: the floor before the logarithm.
    ///   - topDB: the dynamic range kept below the maximum, or `nil` for no limit.
    public static func decibels(_ values: FeatureMatrix, multiplier: Float = 10, amin: Float = 1e-10,
                                topDB: Float? = nil) -> FeatureMatrix {
        var out = values
        for i in out.values.indices { out.values[i] = multiplier * log10(max(out.values[i], amin)) }
        if let topDB, let peak = out.values.max() {
            let lowest = peak - topDB
            for i in out.values.indices { out.values[i] = max(out.values[i], lowest) }
        }
        return out
    }
}

/// Mel-frequency cepstral coefficients as `torchaudio.transforms.MFCC` computes them, time-major.
///
/// The mel spectrogram is turned into decibels (`AmplitudeToDB("power", top_db=80)`) or, with
/// `logMels`, into `ln(x + 1e−6)`, then multiplied by an orthonormal DCT-II matrix.
public struct MFCC: Sendable {
    /// The mel stage.
    public let melSpectrogram: MelSpectrogram
    /// Number of coefficients kept (`n_mfcc`).
    public let coefficientCount: Int
    /// Use `ln(mel + 1e−6)` instead of decibels (`log_mels`).
    public let logMels: Bool
    /// Dynamic range limit of the decibel stage (torchaudio uses 80).
    public let topDB: Float?
    /// `[melCount, coefficientCount]`, row-major.
    let dct: [Float]

    /// - Parameters:
    ///   - melSpectrogram: the mel stage (torchaudio's MFCC default is `MelSpectrogram()` with 128 bands).
    ///   - coefficientCount: `n_mfcc`, at most the number of mel bands.
    ///   - logMels: `log_mels`.
    ///   - topDB: `top_db` of the decibel stage.
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` when `coefficientCount` exceeds the bands.
    public init(melSpectrogram: MelSpectrogram, coefficientCount: Int = 40, logMels: Bool = false,
                topDB: Float? = 80) throws {
        let mels = melSpectrogram.filterbank.filterCount
        try require((1...mels).contains(coefficientCount), "n_mfcc", coefficientCount, "must lie in [1, n_mels = \(mels)]")
        self.melSpectrogram = melSpectrogram
        self.coefficientCount = coefficientCount
        self.logMels = logMels
        self.topDB = topDB
        dct = Self.dctMatrix(mels: mels, coefficients: coefficientCount)
    }

    /// Orthonormal DCT-II basis, `[mels, coefficients]`: `cos(π/M·(n+½)·k)·√(2/M)`, row `k = 0` times `1/√2`.
    static func dctMatrix(mels: Int, coefficients: Int) -> [Float] {
        var matrix = [Float](repeating: 0, count: mels * coefficients)
        for n in 0..<mels {
            for k in 0..<coefficients {
                var value = cos(Double.pi / Double(mels) * (Double(n) + 0.5) * Double(k)) * (2.0 / Double(mels)).squareRoot()
                if k == 0 { value /= 2.0.squareRoot() }
                matrix[n * coefficients + k] = Float(value)
            }
        }
        return matrix
    }

    /// Coefficients of every frame, `[frames, coefficientCount]`.
    public func compute(_ samples: [Float]) -> FeatureMatrix {
        var mel = melSpectrogram.compute(samples)
        if logMels {
            for i in mel.values.indices { mel.values[i] = log(mel.values[i] + 1e-6) }
        } else {
            mel = Spectrogram.decibels(mel, multiplier: 10, topDB: topDB)
        }
        var out = FeatureMatrix(frames: mel.frames, bins: coefficientCount, repeating: 0)
        for t in 0..<mel.frames {
            for n in 0..<mel.bins {
                let v = mel[t, n]
                for k in 0..<coefficientCount { out.values[t * coefficientCount + k] += v * dct[n * coefficientCount + k] }
            }
        }
        return out
    }
}
