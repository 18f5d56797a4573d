import KinoMedia

/// Re-cuts an audio stream into windows of fixed length taken every `hop`, with timestamps.
///
/// Resampling and down-mixing are the decoder's job; this stage only re-chunks. Window k
/// starts `k × hop` after the first sample, in whole sample frames (`window` and `hop` are
/// rounded to the nearest frame at the stream's rate). As with clips, windows continue until
/// one reaches the last sample; with `padEnd` that last window is zero-filled to full length,
/// without it a short tail is dropped.
public final class AudioWindowStage: ProcessingStage {
    /// Window length in seconds.
    public let window: Double
    /// Distance between window starts in seconds.
    public let hop: Double
    public let padEnd: Bool
    private let state = Locked(State())

    private struct State {
        var format: (rate: Int, channels: Int)?
        var origin = 0.0                 // time of the first sample
        var buffer: [Float] = []         // interleaved, starting at frame `bufferStart`
        var bufferStart = 0
        var received = 0                 // frames seen in total
        var nextWindow = 0               // k of the next window
        var lastEnd: Int?                // end frame (exclusive) of the last full window
    }

    public init(window: Double, hop: Double? = nil, padEnd: Bool = true) {
        precondition(window > 0 && (hop ?? window) > 0, "window and hop must be positive")
        self.window = window
        self.hop = hop ?? window
        self.padEnd = padEnd
    }

    public var inputTypes: [PortType] { [.audio] }
    public var outputType: PortType? { .audio }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .audioChunk(let chunk) = packet.payload else { return }
        let windows = try state.withLock { s -> [Packet] in
            if let format = s.format {
                guard format.rate == chunk.sampleRate, format.channels == chunk.channels else {
                    throw GraphError.invalidInput(stage: output.stageID, message:
                        "audio format changed from \(format.rate) Hz × \(format.channels) to "
                        + "\(chunk.sampleRate) Hz × \(chunk.channels) at \(chunk.seconds) s")
                }
            } else {
                s.format = (chunk.sampleRate, chunk.channels)
                s.origin = chunk.seconds
            }
            s.buffer.append(contentsOf: chunk.samples)
            s.received += chunk.frameCount
            return cut(&s, final: false)
        }
        windows.forEach(output.emit)
    }

    public func finish(output: StageOutput) throws {
        let windows = state.withLock { cut(&$0, final: true) }
        windows.forEach(output.emit)
    }

    /// Window length and hop in frames at `rate`.
    public func frames(atRate rate: Int) -> (window: Int, hop: Int) {
        (max(1, Int((window * Double(rate)).rounded())), max(1, Int((hop * Double(rate)).rounded())))
    }

    private func cut(_ s: inout State, final: Bool) -> [Packet] {
        guard let format = s.format else { return [] }
        let (length, step) = frames(atRate: format.rate)
        var out: [Packet] = []
        while true {
            let start = s.nextWindow * step
            let end = start + length
            if end <= s.received {
                out.append(makeWindow(&s, start: start, length: length, format: format))
                s.lastEnd = end
            } else if final && padEnd && start < s.received && (s.lastEnd ?? 0) < s.received {
                out.append(makeWindow(&s, start: start, length: length, format: format))
                s.lastEnd = end
                break
            } else {
                break
            }
            s.nextWindow += 1
        }
        // Drop samples no later window needs.
        let keepFrom = min(s.nextWindow * step, s.received)
        if keepFrom > s.bufferStart {
            s.buffer.removeFirst((keepFrom - s.bufferStart) * format.channels)
            s.bufferStart = keepFrom
        }
        return out
    }

    private func makeWindow(_ s: inout State, start: Int, length: Int, format: (rate: Int, channels: Int)) -> Packet {
        let channels = format.channels
        let from = (start - s.bufferStart) * channels
        let available = max(0, min(length, s.received - start)) * channels
        var samples = Array(s.buffer[from..<(from + available)])
        samples.append(contentsOf: repeatElement(0, count: length * channels - available))
        let chunk = AudioChunk(seconds: s.origin + Double(start) / Double(format.rate),
                               sampleRate: format.rate, channels: channels, samples: samples)
        return .audio(chunk)
    }
}
