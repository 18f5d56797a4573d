import KinoDSP
import KinoMedia

/// Rows of a spectrogram with the time they cover.
public struct SpectrogramBlock: Sendable {
    /// What the rows are: AST model input (normalised, padded) or raw log-mel fbank rows.
    public enum Kind: String, Sendable, Codable, CaseIterable { case ast, fbank }

    public var kind: Kind
    /// Position in the stream of blocks, from 0.
    public var index: Int
    /// Time of the first row's first sample, in seconds.
    public var startSeconds: Double
    /// End of the audio the real rows cover, in seconds.
    public var endSeconds: Double
    /// Rows holding real frames; the rest (AST padding) follow them.
    public var validFrames: Int
    /// `[frames, bins]`, time-major.
    public var features: FeatureMatrix

    public init(kind: Kind, index: Int, startSeconds: Double, endSeconds: Double, validFrames: Int, features: FeatureMatrix) {
        self.kind = kind
        self.index = index
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
        self.validFrames = validFrames
        self.features = features
    }
}

/// Turns a mono audio stream into Kaldi filterbank blocks, as the Audio Spectrogram Transformer sees them.
///
/// Mode `ast`: windows of `maxLength` (1024) fbank frames every `hopFrames`, each normalised and
/// padded exactly as ``ASTFeatureExtractor`` does; the windows equal
/// `ASTFeatureExtractor.windows(allSamples, hopFrames:)` on the whole recording, but only one
/// window of samples is held at a time. Mode `fbank`: raw log-mel rows in blocks of `blockFrames`,
/// for display. Every fbank frame depends only on its own 25 ms of samples (snip-edges framing),
/// so cutting the stream into windows changes no value.
public final class SpectrogramStage: ProcessingStage {
    public let kind: SpectrogramBlock.Kind
    public let extractor: ASTFeatureExtractor
    public let fbank: KaldiFbank
    /// AST: frames between window starts. fbank: frames per block.
    public let stepFrames: Int
    private let state = Locked(State())

    private struct State {
        var rate: Int?
        var origin = 0.0
        var samples: [Float] = []      // mono, starting at sample `offset`
        var offset = 0
        var received = 0
        var next = 0                   // index of the next block
    }

    /// - Parameters:
    ///   - kind: `ast` for model input, `fbank` for display strips.
    ///   - stepFrames: AST: window hop in frames (1024 = no overlap). fbank: rows per block.
    ///   - melBins: mel bins of the `fbank` mode (the AST mode uses the extractor's 128).
    public init(kind: SpectrogramBlock.Kind, stepFrames: Int, melBins: Int = 128,
                extractor: ASTFeatureExtractor? = nil) throws {
        precondition(stepFrames > 0, "stepFrames must be positive")
        self.kind = kind
        self.stepFrames = stepFrames
        self.extractor = try extractor ?? ASTFeatureExtractor()
        if kind == .ast {
            fbank = self.extractor.fbank
        } else {
            var options = KaldiFbankOptions.ast
            options.numMelBins = melBins
            fbank = try KaldiFbank(options: options)
        }
    }

    public var inputTypes: [PortType] { [.audio] }
    public var outputType: PortType? { .spectrogram }

    private var shift: Int { fbank.options.windowShift }
    private var size: Int { fbank.options.windowSize }
    /// Frames per emitted block.
    private var blockFrames: Int { kind == .ast ? extractor.options.maxLength : stepFrames }
    /// Frames between block starts.
    private var hopFrames: Int { kind == .ast ? stepFrames : stepFrames }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .audioChunk(let chunk) = packet.payload else { return }
        let expected = Int(fbank.options.sampleFrequency)
        guard chunk.sampleRate == expected else {
            throw GraphError.invalidInput(stage: output.stageID, message:
                "spectrogram needs \(expected) Hz audio, got \(chunk.sampleRate) Hz: set sample_rate: \(expected) on the decode stage")
        }
        let blocks = state.withLock { s -> [Packet] in
            if s.rate == nil { s.rate = chunk.sampleRate; s.origin = chunk.seconds }
            append(chunk, to: &s)
            return cut(&s, final: false)
        }
        blocks.forEach(output.emit)
    }

    public func finish(output: StageOutput) throws {
        state.withLock { cut(&$0, final: true) }.forEach(output.emit)
    }

    private func append(_ chunk: AudioChunk, to s: inout State) {
        if chunk.channels == 1 {
            s.samples.append(contentsOf: chunk.samples)
        } else {
            let c = chunk.channels, scale = 1 / Float(c)
            for f in 0..<chunk.frameCount {
                var sum: Float = 0
                for k in 0..<c { sum += chunk.samples[f * c + k] }
                s.samples.append(sum * scale)
            }
        }
        s.received += chunk.frameCount
    }

    /// Fbank frames in `n` samples (snip-edges framing).
    private func frames(_ n: Int) -> Int { n < size ? 0 : 1 + (n - size) / shift }

    private func cut(_ s: inout State, final: Bool) -> [Packet] {
        var out: [Packet] = []
        let total = frames(s.received)
        while true {
            let start = s.next * hopFrames
            let needed = (start + blockFrames - 1) * shift + size     // samples to fill the block
            if s.received >= needed {
                out.append(block(&s, start: start, samples: needed))
            } else if final && isLastNeeded(index: s.next, totalFrames: total) {
                out.append(block(&s, start: start, samples: s.received))
            } else {
                break
            }
            s.next += 1
        }
        let keep = min(s.received, s.next * hopFrames * shift)
        if keep > s.offset {
            s.samples.removeFirst(keep - s.offset)
            s.offset = keep
        }
        return out
    }

    /// Whether block `index` still belongs to the stream at the end: AST windows follow
    /// ``ASTFeatureExtractor/windows(ofLogMel:hopFrames:)`` (always at least one); fbank blocks
    /// continue while they hold a frame.
    private func isLastNeeded(index: Int, totalFrames: Int) -> Bool {
        if kind == .ast {
            let length = extractor.options.maxLength
            let count = totalFrames <= length ? 1 : 1 + (totalFrames - length + hopFrames - 1) / hopFrames
            return index < count
        }
        return index * hopFrames < totalFrames
    }

    private func block(_ s: inout State, start: Int, samples end: Int) -> Packet {
        let from = start * shift
        let slice = from < end ? Array(s.samples[(from - s.offset)..<(end - s.offset)]) : []
        let logMel = fbank.compute(slice)
        let valid = min(logMel.frames, blockFrames)
        let rate = Double(s.rate ?? Int(fbank.options.sampleFrequency))
        let startSeconds = s.origin + Double(from) / rate
        let endSeconds = valid == 0 ? startSeconds : startSeconds + Double((valid - 1) * shift + size) / rate
        let features = kind == .ast ? extractor.prepare(logMel) : logMel
        let b = SpectrogramBlock(kind: kind, index: s.next, startSeconds: startSeconds, endSeconds: endSeconds,
                                 validFrames: valid, features: features)
        return Packet(seconds: startSeconds, payload: .spectrogram(b))
    }
}
