import Foundation
import KinoMedia

/// The kind of data a port carries; checked between stages when a graph is built.
///
/// A producer's output type must equal the consumer's input type, unless the consumer
/// declares ``any`` (sinks that accept everything). `info` packets are metadata and may
/// travel on every edge regardless of its type.
public enum PortType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Single decoded pictures (``Payload/videoFrame(_:)``).
    case video
    /// Blocks of interleaved audio samples (``Payload/audioChunk(_:)``).
    case audio
    /// Groups of frames with a time range (``Payload/clip(_:)``).
    case clip
    /// Two consecutive frames, t and t+1 (``Payload/framePair(_:_:)``).
    case framePair = "frame-pair"
    /// Results with a time range (``Payload/event(_:)``).
    case event
    /// Spectrogram rows with a time range (``Payload/spectrogram(_:)``).
    case spectrogram
    /// A packet from each of two inputs matched by time (``Payload/joined(_:_:)``).
    case joined
    /// Accepts every type; only valid on inputs.
    case any

    public var description: String { rawValue }

    /// Whether a producer of `output` may feed an input declared as `self`.
    public func accepts(_ output: PortType) -> Bool {
        self == .any || self == output
    }
}

/// Facts a source knows about its stream before the first frame, sent as the first packet.
///
/// Stages that need totals (uniform sampling) read it; every built-in stage forwards it so
/// that later stages see it too.
public struct SourceInfo: Sendable, Equatable, Codable {
    /// Number of frames, when the source knows it exactly (from a scan or a generator).
    public var frameCount: Int?
    /// Stream duration in seconds, when known.
    public var duration: Double?
    /// Average frame rate, when known.
    public var frameRate: Double?
    /// Audio sample rate, for audio sources.
    public var sampleRate: Int?

    public init(frameCount: Int? = nil, duration: Double? = nil, frameRate: Double? = nil,
                sampleRate: Int? = nil) {
        self.frameCount = frameCount
        self.duration = duration
        self.frameRate = frameRate
        self.sampleRate = sampleRate
    }
}

/// A run of frames handed on as one unit, for clip models such as ViViT.
///
/// Every frame keeps its own index and timestamp. Frames added by the ``ClipEndPolicy/pad``
/// policy are zero-filled and counted in ``paddedCount``; they sit at the end of ``frames``.
public struct Clip: Sendable {
    /// Frames in presentation order (real frames first, then padding).
    public var frames: [VideoFrame]
    /// Presentation time of the first frame, in seconds.
    public var startSeconds: Double
    /// End of the last real frame (its time plus its duration), in seconds.
    public var endSeconds: Double
    /// Number of zero-filled frames appended at the end.
    public var paddedCount: Int

    public init(frames: [VideoFrame], startSeconds: Double, endSeconds: Double, paddedCount: Int = 0) {
        self.frames = frames
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
        self.paddedCount = paddedCount
    }

    /// Source indices of the frames, in order.
    public var indices: [Int] { frames.map(\.index) }

    /// Presentation timestamps of the first and last real frame, in the stream's time base
    /// (``timeBase``); `nil` for an empty clip.
    public var ptsRange: ClosedRange<Int64>? {
        let real = frames.count - paddedCount
        guard real > 0 else { return nil }
        let first = frames[0].pts, last = frames[real - 1].pts
        return min(first, last)...max(first, last)
    }

    /// The time base of ``ptsRange`` (the first frame's).
    public var timeBase: Rational? { frames.first?.timeBase }
}

/// A result over a time range: a label, a score, a path written — anything JSON can hold.
public struct Event: Sendable, Equatable, Codable {
    /// The id of the stage that produced it.
    public var stage: String
    /// Start of the range in seconds.
    public var start: Double
    /// End of the range in seconds.
    public var end: Double
    /// Stage-specific content.
    public var payload: [String: JSONValue]

    public init(stage: String, start: Double, end: Double, payload: [String: JSONValue] = [:]) {
        self.stage = stage
        self.start = start
        self.end = end
        self.payload = payload
    }
}

/// What a packet carries.
public indirect enum Payload: Sendable {
    case videoFrame(VideoFrame)
    case audioChunk(AudioChunk)
    case clip(Clip)
    /// Frames t and t+1 (for optical flow).
    case framePair(VideoFrame, VideoFrame)
    case event(Event)
    /// A block of spectrogram rows (an AST model input, or a strip for display).
    case spectrogram(SpectrogramBlock)
    /// A packet from the first input matched with the second input's packet at that time.
    case joined(Packet, Packet?)
    /// Stream facts; allowed on every edge.
    case info(SourceInfo)

    /// The port type this payload travels on; `nil` for `info`, which travels on any.
    public var portType: PortType? {
        switch self {
        case .videoFrame: .video
        case .audioChunk: .audio
        case .clip: .clip
        case .framePair: .framePair
        case .event: .event
        case .spectrogram: .spectrogram
        case .joined: .joined
        case .info: nil
        }
    }
}

/// One unit of data on an edge: a payload and the time it belongs to.
public struct Packet: Sendable {
    /// Presentation time in seconds (a frame's pts, a clip's or event's start).
    public var seconds: Double
    public var payload: Payload

    public init(seconds: Double, payload: Payload) {
        self.seconds = seconds
        self.payload = payload
    }

    /// A frame packet at the frame's own time.
    public static func frame(_ frame: VideoFrame) -> Packet {
        Packet(seconds: frame.seconds, payload: .videoFrame(frame))
    }

    /// An audio packet at the chunk's first sample.
    public static func audio(_ chunk: AudioChunk) -> Packet {
        Packet(seconds: chunk.seconds, payload: .audioChunk(chunk))
    }

    /// An event packet at the event's start.
    public static func event(_ event: Event) -> Packet {
        Packet(seconds: event.start, payload: .event(event))
    }

    /// A stream-info packet (time 0).
    public static func info(_ info: SourceInfo) -> Packet {
        Packet(seconds: 0, payload: .info(info))
    }

    /// Whether this is metadata rather than data.
    public var isInfo: Bool {
        if case .info = payload { return true }
        return false
    }

    /// Approximate memory held by the payload, used for byte limits on edges.
    public var byteSize: Int {
        Packet.bytes(of: payload)
    }

    private static func bytes(of payload: Payload) -> Int {
        let overhead = 64
        switch payload {
        case .videoFrame(let f): return overhead + f.bytes.count + f.floats.count * 4
        case .audioChunk(let c): return overhead + c.samples.count * 4
        case .clip(let c): return overhead + c.frames.reduce(0) { $0 + $1.bytes.count + $1.floats.count * 4 }
        case .framePair(let a, let b):
            return overhead + a.bytes.count + b.bytes.count + (a.floats.count + b.floats.count) * 4
        case .event(let e): return overhead + e.payload.count * 32
        case .spectrogram(let b): return overhead + b.features.values.count * 4
        case .joined(let a, let b): return overhead + a.byteSize + (b?.byteSize ?? 0)
        case .info: return overhead
        }
    }
}

/// A JSON value, so that event payloads and statistics stay `Sendable` and `Codable`.
///
/// Numbers are kept as `Double`; integers up to 2^53 round-trip exactly.
public enum JSONValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let value): String(value)
        case .string(let value): "\"\(value)\""
        case .array(let value): "[" + value.map(\.description).joined(separator: ", ") + "]"
        case .object(let value):
            "{" + value.keys.sorted().map { "\"\($0)\": \(value[$0]!.description)" }
                .joined(separator: ", ") + "}"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

