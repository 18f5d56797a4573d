// Follows torch.stft / torchaudio.transforms.Spectrogram (torchaudio 2.5) framing and scaling.

import Foundation

/// Options of a short-time Fourier transform, named and defaulted as `torchaudio.transforms.Spectrogram`.
public struct SpectrogramOptions: Sendable, Hashable {
    /// How samples before the start and after the end are filled when frames are centred.
    public enum Padding: Sendable, Hashable {
        /// Mirror without repeating the edge sample: `x[−k] = x[k]` (torch's `"reflect"`).
        case reflect
        /// Zeros (torch's `"constant"`).
        case zeros
    }

    /// Sample rate in Hz (used by mel filterbanks and frame times).
    public var sampleRate: Double = 16000
    /// FFT length `n_fft`; the output has `fftSize/2 + 1` bins.
    public var fftSize: Int = 400
    /// Window length `win_length`; `nil` means ``fftSize``. A shorter window is centred in the FFT frame.
    public var windowLength: Int?
    /// Samples between frames `hop_length`; `nil` means half the window length (torchaudio's default).
    public var hopLength: Int?
    /// Window function; torchaudio's default is a periodic Hann window.
    public var window: WindowFunction = .hann
    /// Use the periodic form of the window (as `torch.hann_window` does by default).
    public var periodicWindow: Bool = true
    /// Centre frame `t` on sample `t·hop` by padding `fftSize/2` samples at both ends.
    public var center: Bool = true
    /// Fill used by ``center``.
    public var padding: Padding = .reflect
    /// Exponent of the magnitude: 2 for power (default), 1 for magnitude.
    public var power: Float = 2
    /// Divide the spectrum by the window's L2 norm (torchaudio's `normalized=True`).
    public var normalized: Bool = false

    /// torchaudio's defaults: 400-point FFT, periodic Hann, hop 200, centred with reflection, power.
    public init() {}

    /// The window length in effect.
    public var resolvedWindowLength: Int { windowLength ?? fftSize }
    /// The hop in effect.
    public var resolvedHopLength: Int { hopLength ?? max(1, resolvedWindowLength / 2) }

    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for inconsistent sizes.
    public func validate() throws {
        try require(fftSize >= 2, "n_fft", fftSize, "must be at least 2")
        try require((1...fftSize).contains(resolvedWindowLength), "win_length", resolvedWindowLength,
                    "must lie in [1, n_fft]")
        try require(resolvedHopLength >= 1, "hop_length", resolvedHopLength, "must be positive")
        try require(power > 0 && power.isFinite, "power", power, "must be positive")
        try require(sampleRate > 0, "sample_rate", sampleRate, "must be positive")
    }
}

/// Power (or magnitude) spectrogram of a mono signal, `[frames, fftSize/2 + 1]`, time-major.
///
/// The values equal `torchaudio.transforms.Spectrogram` transposed (torchaudio returns
/// `[freq, time]`). Silence gives exact zeros; take logs with ``Spectrogram/decibels(_:multiplier:amin:topDB:)``,
/// which floors at `amin`. A signal shorter than one frame gives 0 frames without centring, and
/// `1 + N/hop` frames with it (the padding is mirrored repeatedly when the signal is shorter than `fftSize/2`).
///
/// ```swift
/// let stft = try Spectrogram(options: SpectrogramOptions())
/// let power = stft.compute(samples)     // [frames, 201]
/// ```
public struct Spectrogram: Sendable {
    /// The options this transform was built with.
    public let options: SpectrogramOptions
    /// Bins per frame, `fftSize/2 + 1`.
    public var binCount: Int { options.fftSize / 2 + 1 }

    let fft: RealFFT
    /// The window placed in an `fftSize` frame (zeros around a shorter window).
    let framedWindow: [Float]
    let scale: Float

    /// Prepares the window and the FFT plan.
    ///
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for inconsistent sizes.
    public init(options: SpectrogramOptions = SpectrogramOptions()) throws {
        try options.validate()
        self.options = options
        let length = options.resolvedWindowLength
        let window = options.window.samples(length: length, periodic: options.periodicWindow)
        let left = (options.fftSize - length) / 2
        var framed = [Float](repeating: 0, count: options.fftSize)
        framed.replaceSubrange(left..<(left + length), with: window)
        framedWindow = framed
        scale = options.normalized ? 1 / window.reduce(0) { $0 + $1 * $1 }.squareRoot() : 1
        fft = RealFFT(size: options.fftSize)
    }

    /// Number of frames for `sampleCount` samples.
    public func frameCount(sampleCount n: Int) -> Int {
        let hop = options.resolvedHopLength
        let padded = options.center ? n + 2 * (options.fftSize / 2) : n
        if n == 0 || padded < options.fftSize { return 0 }
        return 1 + (padded - options.fftSize) / hop
    }

    /// Time in seconds of the centre of frame `index`.
    public func frameTime(_ index: Int) -> Double {
        let offset = options.center ? 0 : Double(options.fftSize) / 2
        return (Double(index * options.resolvedHopLength) + offset) / options.sampleRate
    }

    /// `|X|^power` for every frame and bin, `[frames, fftSize/2 + 1]`.
    public func compute(_ samples: [Float]) -> FeatureMatrix {
        let frames = frameCount(sampleCount: samples.count), bins = binCount
        var out = [Float](repeating: 0, count: frames * bins)
        var frame = [Float](repeating: 0, count: options.fftSize)
        var work = fft.makeWorkspace()
        let n = samples.count, size = options.fftSize, hop = options.resolvedHopLength
        let offset = options.center ? size / 2 : 0
        for t in 0..<frames {
            let start = t * hop - offset
            frame.withUnsafeMutableBufferPointer { f in
                samples.withUnsafeBufferPointer { x in
                    framedWindow.withUnsafeBufferPointer { w in
                        for j in 0..<size {
                            let i = start + j
                            let sample: Float
                            if i >= 0 && i < n {
                                sample = x[i]
                            } else {
                                sample = options.padding == .zeros ? 0 : x[reflect(i, n)]
                            }
                            f[j] = sample * w[j]
                        }
                    }
                }
            }
            fft.forward(frame, workspace: &work)
            out.withUnsafeMutableBufferPointer { o in
                let row = o.baseAddress! + t * bins
                for k in 0..<bins {
                    let re = work.real[k] * scale, im = work.imag[k] * scale
                    let p = re * re + im * im
                    row[k] = options.power == 2 ? p : options.power == 1 ? p.squareRoot() : pow(p, options.power / 2)
                }
            }
        }
        return FeatureMatrix(frames: frames, bins: bins, values: out)
    }
}

/// torch's `"reflect"` rule, repeated as needed: `x[−k] = x[k]`, `x[n−1+k] = x[n−1−k]`.
@inline(__always)
func reflect(_ index: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    let period = 2 * (n - 1)
    var i = index % period
    if i < 0 { i += period }
    return i < n ? i : period - i
}
