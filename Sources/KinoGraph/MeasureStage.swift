import KinoMedia

/// Turns any packet into an event with a few cheap facts about it.
///
/// A stand-in for model stages while those are being written, and a quick way to see what a
/// pipeline produces: frames give their index and mean level, clips their index range and
/// padding, audio its RMS and peak, frame pairs the mean absolute difference.
public final class MeasureStage: ProcessingStage {
    public init() {}

    public var inputTypes: [PortType] { [.any] }
    public var outputType: PortType? { .event }
    public var isStateless: Bool { true }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        let (end, payload) = Self.measure(packet.payload, at: packet.seconds)
        output.emit(.event(Event(stage: output.stageID, start: packet.seconds, end: end, payload: payload)))
    }

    private static func measure(_ payload: Payload, at seconds: Double) -> (Double, [String: JSONValue]) {
        switch payload {
        case .videoFrame(let f):
            return (seconds + f.duration, ["type": "frame", "index": .number(Double(f.index)), "mean": .number(mean(f))])
        case .clip(let c):
            return (c.endSeconds, ["type": "clip", "first": .number(Double(c.frames.first?.index ?? 0)),
                                   "last": .number(Double(c.frames.last?.index ?? 0)),
                                   "frames": .number(Double(c.frames.count)),
                                   "padded": .number(Double(c.paddedCount))])
        case .audioChunk(let a):
            let squares = a.samples.reduce(0) { $0 + Double($1) * Double($1) }
            let rms = a.samples.isEmpty ? 0 : (squares / Double(a.samples.count)).squareRoot()
            let peak = a.samples.reduce(0) { max($0, abs(Double($1))) }
            let end = seconds + Double(a.frameCount) / Double(max(1, a.sampleRate))
            return (end, ["type": "audio", "rms": .number(rms), "peak": .number(peak)])
        case .framePair(let a, let b):
            let n = min(a.bytes.count, b.bytes.count)
            var total = 0
            for i in 0..<n { total += abs(Int(a.bytes[i]) - Int(b.bytes[i])) }
            return (b.seconds, ["type": "pair", "first": .number(Double(a.index)), "second": .number(Double(b.index)),
                                "mean_abs_diff": .number(n == 0 ? 0 : Double(total) / Double(n))])
        case .event(let e):
            return (e.end, ["type": "event", "from": .string(e.stage)])
        case .joined(_, let b):
            return (seconds, ["type": "joined", "matched": .bool(b != nil),
                              "second_time": b.map { .number($0.seconds) } ?? .null])
        case .info:
            return (seconds, ["type": "info"])
        }
    }

    private static func mean(_ frame: VideoFrame) -> Double {
        if !frame.bytes.isEmpty { return Double(frame.bytes.reduce(0) { $0 + Int($1) }) / Double(frame.bytes.count) }
        if !frame.floats.isEmpty { return Double(frame.floats.reduce(0, +)) / Double(frame.floats.count) }
        return 0
    }
}
