import ArgumentParser
import Foundation
import KinoDSP
import KinoMedia
import KinoFiles

struct SpectrogramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrogram",
        abstract: "Compute a Kaldi fbank, mel or STFT spectrogram of a file's audio to .npy (and a PNG).",
        discussion: """
        The audio is decoded, down-mixed to mono and resampled to --sample-rate (16 kHz by default).
        --kind kaldi-fbank follows torchaudio.compliance.kaldi.fbank (every option below); --ast gives
        the Audio Spectrogram Transformer's input ([1024, 128], normalised) as Hugging Face's
        ASTFeatureExtractor makes it, or with --all-windows every 10.24 s window ([n, 1024, 128]).
        The .npy holds float32 [frames, bins]; the PNG runs time left to right, low frequency at the bottom.
        """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case kaldiFbank = "kaldi-fbank", mel, stft }

    @Argument(help: "Audio or video file.") var file: String
    @Option(help: "kaldi-fbank, mel or stft.") var kind: Kind = .kaldiFbank
    @Flag(help: "AST model input (Kaldi fbank, 128 bins, hanning, padded/cut, normalised).") var ast = false
    @Flag(help: "With --ast: every window covering the file, shape [n, max-length, 128].") var allWindows = false
    @Option(help: "With --ast --all-windows: seconds between window starts.") var astHop: Double = 10.24
    @Option(help: "With --ast: frames per window.") var maxLength: Int = 1024
    @Option(help: "Sample rate the audio is resampled to.") var sampleRate: Int = 16000
    @Option(help: "Mel bins (kaldi-fbank, mel).") var melBins: Int = 128
    @Option(help: "Window: hann (hanning), hamming, povey, rectangular, blackman.") var window: String?
    @Option(help: "kaldi-fbank: frame length in ms.") var frameLengthMs: Double = 25
    @Option(help: "kaldi-fbank: frame shift in ms.") var frameShiftMs: Double = 10
    @Option(help: "kaldi-fbank: dither amount (0 = off, reproducible).") var dither: Double = 0
    @Option(help: "kaldi-fbank: pre-emphasis coefficient.") var preemphasis: Double = 0.97
    @Flag(help: "kaldi-fbank: keep the DC offset.") var noRemoveDc = false
    @Flag(help: "kaldi-fbank: do not round the FFT size to a power of two.") var noRoundToPowerOfTwo = false
    @Flag(help: "kaldi-fbank: centre frames (Kaldi's snip-edges off).") var noSnipEdges = false
    @Option(help: "kaldi-fbank, mel: lowest mel filter edge in Hz.") var lowFreq: Double?
    @Option(help: "kaldi-fbank: highest edge in Hz (≤ 0: offset from Nyquist). mel: highest edge (default Nyquist).") var highFreq: Double?
    @Flag(help: "kaldi-fbank: add the log energy as column 0 (last with --htk-compat).") var useEnergy = false
    @Flag(help: "kaldi-fbank: HTK-compatible output.") var htkCompat = false
    @Flag(help: "Magnitude instead of power.") var magnitude = false
    @Flag(help: "kaldi-fbank: linear filterbank energies (no log).") var noLog = false
    @Option(help: "mel, stft: FFT size.") var nFft: Int = 400
    @Option(help: "mel, stft: hop in samples (default: half the FFT size, as torchaudio).") var hop: Int?
    @Option(help: "mel: mel scale htk, slaney or kaldi.") var melScale: String = "htk"
    @Flag(help: "mel, stft: decibels (10·log10 of power, 20·log10 of magnitude).") var db = false
    @Option(name: .shortAndLong, help: "Output .npy file.") var output: String
    @Option(help: "Also render a PNG.") var png: String?
    @Option(help: "Colour map for --png: viridis or magma.") var colormap: String = "viridis"

    func validate() throws {
        if allWindows && !ast { throw ValidationError("--all-windows needs --ast") }
        if ast && kind != .kaldiFbank { throw ValidationError("--ast computes a Kaldi fbank; drop --kind") }
        if let window, WindowFunction(name: window) == nil { throw ValidationError("unknown --window '\(window)'") }
        guard ["viridis", "magma"].contains(colormap) else { throw ValidationError("--colormap must be viridis or magma") }
        guard ["htk", "slaney", "kaldi"].contains(melScale) else { throw ValidationError("--mel-scale must be htk, slaney or kaldi") }
        guard sampleRate > 0, melBins > 0, nFft > 0, maxLength > 0, astHop > 0 else { throw ValidationError("sizes and rates must be positive") }
    }

    func run() throws {
        do {
            // Refuse a device or folder at an output before any work.
            _ = try AtomicFile.destination(output)
            if let png { _ = try AtomicFile.destination(png) }
            let audio = try AudioDecoder.decodeAll(path: file, sampleRate: sampleRate, mono: true)
            let (matrix, shape) = try compute(audio.samples)
            try AtomicFile.write(NumpyFile.encode(matrix.values, shape: shape), to: output)
            if let png {
                let map = colormap == "magma" ? ColorMap.magma : ColorMap.viridis
                let image = map.render(matrix)
                try ImageFile.write(VideoFrame(index: 0, pts: 0, timeBase: Rational(1, 1), seconds: 0, width: image.width,
                                               height: image.height, layout: .rgb24, bytes: image.pixels), to: png)
            }
            let seconds = Double(audio.samples.count) / Double(sampleRate)
            print(String(format: "%@: %.2f s of audio → %@ %@", file, seconds, output, shape.map(String.init).joined(separator: "×")))
        } catch let error as ValidationError {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }

    /// The matrix to render and the shape to save.
    func compute(_ samples: [Float]) throws -> (FeatureMatrix, [Int]) {
        if ast {
            var options = ASTFeatureExtractor.Options()
            options.maxLength = maxLength
            options.sampleRate = Double(sampleRate)
            options.numMelBins = melBins
            let extractor = try ASTFeatureExtractor(options: options)
            guard allWindows else {
                let m = extractor.extract(samples)
                return (m, [m.frames, m.bins])
            }
            let windows = extractor.windows(samples, hopFrames: max(1, Int((astHop * 100).rounded())))
            let all = FeatureMatrix(frames: windows.count * maxLength, bins: melBins, values: windows.flatMap(\.features.values))
            return (all, [windows.count, maxLength, melBins])
        }
        let m: FeatureMatrix
        switch kind {
        case .kaldiFbank:
            var o = KaldiFbankOptions()
            o.sampleFrequency = Double(sampleRate)
            o.numMelBins = melBins
            o.frameLengthMs = frameLengthMs
            o.frameShiftMs = frameShiftMs
            o.dither = dither
            o.preemphasisCoefficient = preemphasis
            o.removeDCOffset = !noRemoveDc
            o.roundToPowerOfTwo = !noRoundToPowerOfTwo
            o.snipEdges = !noSnipEdges
            if let lowFreq { o.lowFrequency = lowFreq }
            if let highFreq { o.highFrequency = highFreq }
            o.useEnergy = useEnergy
            o.htkCompat = htkCompat
            o.usePower = !magnitude
            o.useLogFbank = !noLog
            if let window { o.windowType = WindowFunction(name: window)! }
            m = try KaldiFbank(options: o).compute(samples)
        case .mel, .stft:
            var o = SpectrogramOptions()
            o.sampleRate = Double(sampleRate)
            o.fftSize = nFft
            o.hopLength = hop
            o.power = magnitude ? 1 : 2
            if let window { o.window = WindowFunction(name: window)! }
            let raw: FeatureMatrix
            if kind == .mel {
                let scale: MelScale = melScale == "slaney" ? .slaney : melScale == "kaldi" ? .kaldi : .htk
                raw = try MelSpectrogram(options: o, melCount: melBins, minFrequency: lowFreq ?? 0,
                                         maxFrequency: highFreq, scale: scale).compute(samples)
            } else {
                raw = try Spectrogram(options: o).compute(samples)
            }
            m = db ? Spectrogram.decibels(raw, multiplier: magnitude ? 20 : 10) : raw
        }
        return (m, [m.frames, m.bins])
    }
}
