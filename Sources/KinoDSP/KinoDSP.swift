/// KinoDSP: spectrograms (STFT, mel, Kaldi fbank) and optical flow. Pure Swift over KinoTensor.
public enum KinoDSP {
    /// Library version string, reported by `kino --version`.
    public static let version = "0.1.0"
}
