/// What a decoder met on its way through a stream: the evidence that an input is damaged.
///
/// FFmpeg decoders keep going over damage: a packet they reject is skipped, a picture with
/// missing macroblocks is concealed and output anyway, and a file cut short simply ends. Each of
/// those is counted here, so a caller can tell a clean run from one that only looked clean.
public struct DecodeHealth: Sendable, Equatable, Codable {
    /// Packets or frames rejected with an error (skipped), and reads that stopped at damage.
    public var decodeErrors = 0
    /// Frames output but flagged as corrupt or concealed by the decoder.
    public var corruptFrames = 0
    /// Frames (video) or sample blocks (audio) decoded.
    public var frames = 0
    /// Media time at the end of the last decoded frame or block.
    public var endSeconds: Double?
    /// The stream's duration according to the container (`nil` when it declares none).
    public var expectedSeconds: Double?
    /// The first decoder messages, in order (at most ``keptMessages``).
    public private(set) var messages: [String] = []

    /// How many messages are kept.
    public static let keptMessages = 5

    public init(expectedSeconds: Double? = nil) {
        self.expectedSeconds = expectedSeconds.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
    }

    /// Counts an error the decoder recovered from by skipping data.
    mutating func skipped(_ message: String) {
        decodeErrors += 1
        note(message)
    }

    /// Counts a frame the decoder flagged as damaged.
    mutating func corrupt(_ message: String) {
        corruptFrames += 1
        note(message)
    }

    /// Records a decoded frame or block that ends at `end` seconds.
    mutating func decoded(endingAt end: Double) {
        frames += 1
        if end.isFinite { endSeconds = max(endSeconds ?? end, end) }
    }

    private mutating func note(_ message: String) {
        if messages.count < Self.keptMessages { messages.append(message) }
    }

    /// Seconds the stream ended before its declared duration; 0 when it reached it (within half
    /// a second or 2 %, the slack of ordinary files whose header and packets disagree a little).
    public var shortfall: Double {
        guard let expected = expectedSeconds else { return 0 }
        let missing = expected - (endSeconds ?? 0)
        return missing > max(0.5, 0.02 * expected) ? missing : 0
    }

    /// True when anything was skipped, concealed or cut short.
    public var isDamaged: Bool { decodeErrors > 0 || corruptFrames > 0 || shortfall > 0 }

    /// One line: `3 decode errors, 12 corrupt frames, stopped at 4.44 s of 10.00 s`.
    public var description: String {
        var parts: [String] = []
        if decodeErrors > 0 { parts.append("\(decodeErrors) decode error\(decodeErrors == 1 ? "" : "s")") }
        if corruptFrames > 0 { parts.append("\(corruptFrames) corrupt frame\(corruptFrames == 1 ? "" : "s")") }
        if shortfall > 0, let expected = expectedSeconds {
            parts.append(String(format: "stopped at %.2f s of %.2f s", endSeconds ?? 0, expected))
        }
        return parts.isEmpty ? "clean" : parts.joined(separator: ", ")
    }
}
