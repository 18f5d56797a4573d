/// Every option of `torchaudio.compliance.kaldi.fbank`, with torchaudio's defaults.
///
/// Names are the Kaldi/torchaudio names in Swift spelling. Defaults are torchaudio's, which differ
/// from Kaldi's command-line tool in two places: `dither` is 0 (Kaldi: 1) and `energyFloor` is 1
/// (Kaldi: 0). Vocal-tract length normalisation (`vtln_warp ≠ 1`) and `channel` selection are not
/// supported: pass one channel of samples.
///
/// ```swift
/// var options = KaldiFbankOptions.ast          // what ASTFeatureExtractor uses
/// options.numMelBins = 80
/// let fbank = try KaldiFbank(options: options)
/// ```
public struct KaldiFbankOptions: Sendable, Hashable {
    /// Sample rate of the input in Hz (`sample_frequency`, default 16000).
    public var sampleFrequency: Double = 16000
    /// Frame length in milliseconds (`frame_length`, default 25).
    public var frameLengthMs: Double = 25
    /// Frame shift in milliseconds (`frame_shift`, default 10).
    public var frameShiftMs: Double = 10
    /// Standard deviation of Gaussian noise added to each frame (`dither`, default 0).
    ///
    /// Kino draws the noise from its own generator, one stream per frame seeded from ``ditherSeed``
    /// and the frame index, so dithered output is reproducible (whatever the thread count) but not
    /// equal to torch's `randn` draws.
    public var dither: Double = 0
    /// Seed of the dither noise generator.
    public var ditherSeed: UInt64 = 0
    /// Pre-emphasis `y[j] = x[j] − c·x[j−1]` with `x[−1] = x[0]` (`preemphasis_coefficient`, default 0.97).
    public var preemphasisCoefficient: Double = 0.97
    /// Subtract each frame's mean before pre-emphasis (`remove_dc_offset`, default true).
    public var removeDCOffset: Bool = true
    /// Zero-pad each frame to the next power of two before the FFT (`round_to_power_of_two`, default true).
    public var roundToPowerOfTwo: Bool = true
    /// Only frames that fit inside the signal (`snip_edges`, default true).
    ///
    /// When false, `(N + shift/2) / shift` frames are taken, centred on multiples of the shift, and
    /// samples outside the signal are mirrored (`x[−1] = x[0]`, `x[N] = x[N−1]`).
    public var snipEdges: Bool = true
    /// The analysis window (`window_type`, default povey; `blackman_coeff` is the Blackman case's payload).
    public var windowType: WindowFunction = .povey
    /// Number of triangular mel filters (`num_mel_bins`, default 23, more than 3).
    public var numMelBins: Int = 23
    /// Lower edge of the first filter in Hz (`low_freq`, default 20).
    public var lowFrequency: Double = 20
    /// Upper edge of the last filter in Hz; zero or negative means Nyquist plus this value (`high_freq`, default 0).
    public var highFrequency: Double = 0
    /// Add a log-energy column (`use_energy`, default false): first, or last with ``htkCompat``.
    public var useEnergy: Bool = false
    /// Measure energy before pre-emphasis and windowing (`raw_energy`, default true).
    public var rawEnergy: Bool = true
    /// Floor on the log-energy column, as `max(logE, ln(energyFloor))`; 0 disables it (`energy_floor`, default 1).
    public var energyFloor: Double = 1
    /// Put the energy column last instead of first (`htk_compat`, default false).
    ///
    /// This is all `htk_compat` changes in torchaudio's fbank.
    public var htkCompat: Bool = false
    /// Return `ln(max(E, ε))` with `ε` = `Float.ulpOfOne` (1.19e−7) instead of linear energies (`use_log_fbank`, default true).
    public var useLogFbank: Bool = true
    /// Filter the power spectrum `|X|²` (true) or the magnitude `|X|` (`use_power`, default true).
    public var usePower: Bool = true
    /// Subtract each column's mean over all frames of this call (`subtract_mean`, default false).
    public var subtractMean: Bool = false
    /// Inputs shorter than this many seconds give zero frames (`min_duration`, default 0).
    public var minDuration: Double = 0

    /// torchaudio's defaults.
    public init() {}

    /// The settings of Hugging Face's `ASTFeatureExtractor`: 16 kHz, Hann window, 128 mel bins.
    public static let ast: KaldiFbankOptions = {
        var options = KaldiFbankOptions()
        options.windowType = .hann
        options.numMelBins = 128
        return options
    }()

    /// Samples per frame, `Int(sampleFrequency × frameLengthMs / 1000)` as torchaudio truncates it.
    public var windowSize: Int { Int(sampleFrequency * frameLengthMs * 0.001) }
    /// Samples between frame starts, truncated likewise.
    public var windowShift: Int { Int(sampleFrequency * frameShiftMs * 0.001) }
    /// FFT length: ``windowSize`` or the next power of two.
    public var paddedWindowSize: Int {
        guard roundToPowerOfTwo else { return windowSize }
        var n = 1
        while n < windowSize { n <<= 1 }
        return n
    }

    /// Checks every option torchaudio asserts on, plus the ones it leaves to fail later.
    ///
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` naming the first bad option.
    public func validate() throws {
        try require(sampleFrequency > 0, "sample_frequency", sampleFrequency, "must be positive")
        try require(windowSize >= 2, "frame_length", frameLengthMs, "gives \(windowSize) samples; needs at least 2")
        try require(windowShift > 0, "frame_shift", frameShiftMs, "gives \(windowShift) samples; needs at least 1")
        try require(paddedWindowSize % 2 == 0, "padded window size", paddedWindowSize,
                    "must be even (set round_to_power_of_two or pick an even frame length)")
        try require((0...1).contains(preemphasisCoefficient), "preemphasis_coefficient", preemphasisCoefficient,
                    "must lie in [0, 1]")
        try require(dither >= 0, "dither", dither, "must not be negative")
        try require(energyFloor >= 0, "energy_floor", energyFloor, "must not be negative")
        if case .blackman(let c) = windowType {
            try require(c.isFinite, "blackman_coeff", c, "must be finite")
        }
    }
}
