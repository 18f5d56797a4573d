/// KinoDSP: spectrograms (STFT, mel, Kaldi fbank) and optical flow. Pure Swift over KinoTensor.
///
/// Audio features, all `Sendable` values built once from an options struct and reused:
/// - ``KaldiFbank`` (`torchaudio.compliance.kaldi.fbank`, every option in ``KaldiFbankOptions``),
/// - ``ASTFeatureExtractor`` (Hugging Face's AST input, plus ``ASTFeatureExtractor/windows(_:hopFrames:)``
///   for long recordings),
/// - ``Spectrogram``, ``MelSpectrogram``, ``MFCC`` (torchaudio.transforms semantics),
/// - building blocks: ``RealFFT``, ``WindowFunction``, ``MelFilterbank``, ``MelScale``.
///
/// Every feature is a time-major ``FeatureMatrix`` (`[frames, bins]`); ``ColorMap/render(_:range:)``
/// turns one into an ``RGBImage`` with time left to right and low frequencies at the bottom.
public enum KinoDSP {
    /// Library version string, reported by `kino --version`.
    public static let version = "0.1.0"
}
