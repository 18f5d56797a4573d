import Foundation

/// A tapering window applied to each analysis frame.
///
/// Formulas follow torch/torchaudio; with `D = N−1` (symmetric) or `D = N` (periodic):
/// - ``hann``: `0.5 − 0.5·cos(2πn/D)` (`torch.hann_window`; Kaldi's "hanning")
/// - ``hamming``: `0.54 − 0.46·cos(2πn/D)`
/// - ``povey``: `hann(n)^0.85` (Kaldi's default; always zero at both ends)
/// - ``rectangular``: `1`
/// - ``blackman(coefficient:)``: `c − 0.5·cos(2πn/D) + (0.5 − c)·cos(4πn/D)`; `c = 0.42` is the classic Blackman
///
/// Kaldi framing uses the symmetric forms; `torch.stft` users usually pass periodic ones.
public enum WindowFunction: Sendable, Hashable {
    case hann
    case hamming
    case povey
    case rectangular
    case blackman(coefficient: Double)

    /// The classic Blackman window, `coefficient` 0.42.
    public static let blackman = WindowFunction.blackman(coefficient: 0.42)

    /// Samples of the window.
    ///
    /// - Parameters:
    ///   - length: number of samples, at least 1 (a 1-sample window is `[1]`).
    ///   - periodic: divide by `length` instead of `length − 1`, as `torch.hann_window`'s default does.
    /// - Returns: `length` weights in `[0, 1]`.
    public func samples(length: Int, periodic: Bool = false) -> [Float] {
        precondition(length >= 1, "window length must be positive")
        if length == 1 { return [1] }
        let denominator = Double(periodic ? length : length - 1)
        return (0..<length).map { n in
            let phase = 2.0 * Double.pi * Double(n) / denominator
            let value: Double
            switch self {
            case .hann: value = 0.5 - 0.5 * cos(phase)
            case .hamming: value = 0.54 - 0.46 * cos(phase)
            case .povey: value = pow(0.5 - 0.5 * cos(phase), 0.85)
            case .rectangular: value = 1
            case .blackman(let c): value = c - 0.5 * cos(phase) + (0.5 - c) * cos(2 * phase)
            }
            return Float(value)
        }
    }
}

extension WindowFunction {
    /// Parses the names Kaldi and torchaudio use: `hanning`/`hann`, `hamming`, `povey`, `rectangular`, `blackman`.
    ///
    /// - Returns: `nil` for an unknown name (the caller reports it).
    public init?(name: String) {
        switch name.lowercased() {
        case "hann", "hanning": self = .hann
        case "hamming": self = .hamming
        case "povey": self = .povey
        case "rectangular", "rect": self = .rectangular
        case "blackman": self = .blackman
        default: return nil
        }
    }

    /// The torchaudio name of this window (`"hanning"`, `"povey"`, …).
    public var name: String {
        switch self {
        case .hann: "hanning"
        case .hamming: "hamming"
        case .povey: "povey"
        case .rectangular: "rectangular"
        case .blackman: "blackman"
        }
    }
}
