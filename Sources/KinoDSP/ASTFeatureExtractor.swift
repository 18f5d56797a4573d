// Follows Hugging Face transformers' ASTFeatureExtractor (torchaudio branch), v4.46.

/// The input features of the Audio Spectrogram Transformer, as Hugging Face's `ASTFeatureExtractor` makes them.
///
/// Kaldi fbank with ``KaldiFbankOptions/ast`` (16 kHz, Hann window, 128 mel bins), then zero rows
/// appended (in the log domain) or rows cut to ``Options/maxLength``, then `(x − mean) / (2·std)`.
///
/// Defined behaviour at the edges:
/// - audio **shorter than one 25 ms window** has no fbank frames, so the result is all padding:
///   every value is `(0 − mean) / (2·std)` = 0.46703237 with the default statistics (Hugging Face
///   raises instead, through torchaudio's assertion);
/// - **silence** gives `(ln ε − mean) / (2·std)` = −1.2775 in every real frame, never NaN;
/// - input is not rescaled: pass floats in `[−1, 1]`, as the AST checkpoints were trained on.
///
/// ```swift
/// let extractor = try ASTFeatureExtractor()
/// let input = extractor.extract(samples)             // [1024, 128]
/// let windows = extractor.windows(samples, hopFrames: 512)
/// ```
public struct ASTFeatureExtractor: Sendable {
    /// `preprocessor_config.json` of `MIT/ast-finetuned-audioset-10-10-0.4593`, with its defaults.
    public struct Options: Sendable, Hashable {
        /// Input sample rate in Hz (`sampling_rate`).
        public var sampleRate: Double = 16000
        /// Mel filters per frame (`num_mel_bins`).
        public var numMelBins: Int = 128
        /// Frames per model input (`max_length`).
        public var maxLength: Int = 1024
        /// Value of padding rows before normalisation (`padding_value`).
        public var paddingValue: Float = 0
        /// Apply `(x − mean) / (2·std)` (`do_normalize`).
        public var doNormalize: Bool = true
        /// Dataset mean of the log-mel values (`mean`, AudioSet).
        public var mean: Float = -4.2677393
        /// Dataset standard deviation (`std`); the formula divides by twice this.
        public var std: Float = 4.5689974

        /// The AudioSet checkpoint's configuration.
        public init() {}
    }

    /// The options this extractor was built with.
    public let options: Options
    /// The fbank stage (``KaldiFbankOptions/ast`` at ``Options/sampleRate`` and ``Options/numMelBins``).
    public let fbank: KaldiFbank

    /// Prepares the fbank stage.
    ///
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for a non-positive `maxLength`
    ///   or options the fbank rejects.
    public init(options: Options = Options()) throws {
        try require(options.maxLength > 0, "max_length", options.maxLength, "must be positive")
        try require(options.std > 0, "std", options.std, "must be positive")
        var fbankOptions = KaldiFbankOptions.ast
        fbankOptions.sampleFrequency = options.sampleRate
        fbankOptions.numMelBins = options.numMelBins
        self.options = options
        fbank = try KaldiFbank(options: fbankOptions)
    }

    /// The model input for one clip: `[maxLength, numMelBins]`, padded or cut, normalised.
    ///
    /// - Parameter samples: mono waveform at ``Options/sampleRate``.
    public func extract(_ samples: [Float]) -> FeatureMatrix {
        prepare(fbank.compute(samples), from: 0)
    }

    /// Pads or cuts raw log-mel rows starting at `start` to ``Options/maxLength`` and normalises them.
    ///
    /// - Parameters:
    ///   - logMel: fbank output (unnormalised), `[frames, numMelBins]`.
    ///   - start: first row to take; rows past the end of `logMel` become padding.
    public func prepare(_ logMel: FeatureMatrix, from start: Int = 0) -> FeatureMatrix {
        precondition(logMel.bins == options.numMelBins, "expected \(options.numMelBins) mel bins, got \(logMel.bins)")
        let bins = options.numMelBins, length = options.maxLength
        let valid = max(0, min(length, logMel.frames - start))
        var values = [Float](repeating: options.paddingValue, count: length * bins)
        if valid > 0 {
            values.replaceSubrange(0..<(valid * bins),
                                   with: logMel.values[(start * bins)..<((start + valid) * bins)])
        }
        if options.doNormalize {
            let mean = options.mean, scale = Float(2 * Double(options.std))
            for i in values.indices { values[i] = (values[i] - mean) / scale }
        }
        return FeatureMatrix(frames: length, bins: bins, values: values)
    }
}

/// One model input cut from a longer recording.
public struct ASTWindow: Sendable, Equatable {
    /// Position of this window in the sequence, from 0.
    public let index: Int
    /// Fbank frame at which the window starts.
    public let startFrame: Int
    /// Start time in seconds (`startFrame × frame shift / sample rate`).
    public let startTime: Double
    /// End of the audio the real frames cover, in seconds (the last valid frame's last sample);
    /// equals ``startTime`` for an all-padding window.
    public let endTime: Double
    /// Rows that hold real frames; the rest (up to `maxLength`) are padding.
    public let validFrames: Int
    /// The normalised `[maxLength, numMelBins]` input.
    public let features: FeatureMatrix
}

extension ASTFeatureExtractor {
    /// Splits a recording into model inputs of ``Options/maxLength`` frames every `hopFrames` frames.
    ///
    /// Windows start at frames `0, hop, 2·hop, …` until one reaches the last frame; the last is
    /// padded exactly as ``extract(_:)`` pads. A recording with no frames yields one all-padding window.
    ///
    /// - Parameters:
    ///   - samples: mono waveform at ``Options/sampleRate``.
    ///   - hopFrames: frames between window starts (100 frames = 1 s at the default 10 ms shift).
    public func windows(_ samples: [Float], hopFrames: Int) -> [ASTWindow] {
        windows(ofLogMel: fbank.compute(samples), hopFrames: hopFrames)
    }

    /// ``windows(_:hopFrames:)`` for an fbank that was already computed with ``fbank``.
    public func windows(ofLogMel logMel: FeatureMatrix, hopFrames: Int) -> [ASTWindow] {
        precondition(hopFrames > 0, "hopFrames must be positive")
        let length = options.maxLength
        let count = logMel.frames <= length ? 1 : 1 + (logMel.frames - length + hopFrames - 1) / hopFrames
        return (0..<count).map { index in
            let start = index * hopFrames
            let valid = max(0, min(length, logMel.frames - start))
            let end = valid == 0 ? fbank.frameStart(start)
                : fbank.frameStart(start + valid - 1) + Double(fbank.windowSize) / options.sampleRate
            return ASTWindow(index: index, startFrame: start, startTime: fbank.frameStart(start), endTime: end,
                             validFrames: valid, features: prepare(logMel, from: start))
        }
    }
}
