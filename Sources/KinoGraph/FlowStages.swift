import Foundation
import KinoDSP
import KinoMedia
import KinoFiles

/// Optical flow from frame `fromIndex` to frame `toIndex`, at the first frame's time.
public struct FlowPacket: Sendable {
    /// Per-pixel displacement (u, v) such that frame₀(x) ≈ frame₁(x + (u, v)).
    public var field: FlowField
    public var fromIndex: Int
    public var toIndex: Int
    public var fromSeconds: Double
    public var toSeconds: Double

    public init(field: FlowField, fromIndex: Int, toIndex: Int, fromSeconds: Double, toSeconds: Double) {
        self.field = field
        self.fromIndex = fromIndex
        self.toIndex = toIndex
        self.fromSeconds = fromSeconds
        self.toSeconds = toSeconds
    }
}

/// Dense optical flow (DIS) between consecutive frames of a stream.
///
/// Runs in video mode: the pyramid of frame t+1 is reused as frame t's on the next pair, so each
/// frame is prepared once. Frames are converted to grey (Rec. 601 weights, as OpenCV does); their
/// size is set by the decode stage. Optionally writes every field as a Middlebury `.flo` file.
public final class FlowStage: ProcessingStage {
    public let options: DISOptions
    /// Folder for `.flo` files (`flow-NNNNNN.flo`, named by the first frame's index), or nil.
    public let floDirectory: String?
    private let state = Locked<(session: FlowSession?, field: FlowField?, last: VideoFrame?)>((nil, nil, nil))

    public init(options: DISOptions, floDirectory: String? = nil) throws {
        try options.validate()
        self.options = options
        self.floDirectory = floDirectory
    }

    public var inputTypes: [PortType] { [.video] }
    public var outputType: PortType? { .flow }
    public var isHeavy: Bool { true }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .videoFrame(let frame) = packet.payload else { return }
        let gray: GrayImage
        switch frame.layout {
        case .gray8: gray = try GrayImage(width: frame.width, height: frame.height, bytes: frame.bytes)
        case .rgb24: gray = try GrayImage(interleaved: frame.bytes, width: frame.width, height: frame.height, order: .rgb)
        case .rgbPlanarFloat:
            throw GraphError.invalidInput(stage: output.stageID, message: "flow needs rgb24 or gray8 frames; set layout on the decode stage")
        }
        let result = try state.withLock { s -> FlowPacket? in
            if let session = s.session, session.width != frame.width || session.height != frame.height {
                throw GraphError.invalidInput(stage: output.stageID, message:
                    "frame size changed from \(session.width)×\(session.height) to \(frame.width)×\(frame.height)")
            }
            if s.session == nil {
                s.session = try FlowSession(width: frame.width, height: frame.height, options: options)
                s.field = FlowField(width: frame.width, height: frame.height)
            }
            var field = s.field!
            defer { s.field = field }
            let previous = s.last
            s.last = frame
            guard try s.session!.push(gray, into: &field), let previous else { return nil }
            return FlowPacket(field: field, fromIndex: previous.index, toIndex: frame.index,
                              fromSeconds: previous.seconds, toSeconds: frame.seconds)
        }
        guard let result else { return }
        if let dir = floDirectory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let url = URL(fileURLWithPath: "\(dir)/flow-\(String(format: "%06d", result.fromIndex)).flo")
            try AtomicFile.write(result.field.floData(), to: url.path)
        }
        output.emit(Packet(seconds: result.fromSeconds, payload: .flow(result)))
    }

    public func finish(output: StageOutput) throws {
        if let dir = floDirectory, FileManager.default.fileExists(atPath: dir) {
            output.recordFile(dir, complete: !output.isCancelled)
        }
    }
}

/// Draws flow with the Middlebury colour wheel, as frames the `video` or `frames` sinks can write.
///
/// With `maxRadius` the colour scale is fixed (speeds at or above it are fully saturated), so a
/// video does not flicker as the largest motion changes; without it each field uses its own maximum.
public final class FlowVisualStage: ProcessingStage {
    public let maxRadius: Float?

    public init(maxRadius: Float? = nil) { self.maxRadius = maxRadius }

    public var inputTypes: [PortType] { [.flow] }
    public var outputType: PortType? { .video }
    public var isStateless: Bool { true }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .flow(let f) = packet.payload else { return }
        let rgb = FlowColor.render(f.field, maxRadius: maxRadius)
        let frame = VideoFrame(index: f.fromIndex, pts: 0, timeBase: Rational(1, 1), seconds: f.fromSeconds,
                               duration: max(0, f.toSeconds - f.fromSeconds),
                               width: f.field.width, height: f.field.height, layout: .rgb24, bytes: rgb)
        output.emit(.frame(frame))
    }
}

/// Per-pair motion statistics as events: mean and 95th-percentile speed, dominant direction,
/// fraction of moving pixels.
public final class FlowStatisticsStage: ProcessingStage {
    public let movingThreshold: Float

    public init(movingThreshold: Float = 0.5) { self.movingThreshold = movingThreshold }

    public var inputTypes: [PortType] { [.flow] }
    public var outputType: PortType? { .event }
    public var isStateless: Bool { true }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .flow(let f) = packet.payload else { return }
        let s = MotionStatistics(f.field, movingThreshold: movingThreshold)
        var payload: [String: JSONValue] = [
            "from_index": .number(Double(f.fromIndex)), "to_index": .number(Double(f.toIndex)),
            "mean_magnitude": .number(Double(s.meanMagnitude)), "p95_magnitude": .number(Double(s.p95Magnitude)),
            "moving_fraction": .number(Double(s.movingFraction)), "moving_threshold": .number(Double(s.movingThreshold)),
        ]
        payload["dominant_direction_degrees"] = s.dominantDirection.map { .number(Double($0)) } ?? .null
        output.emit(.event(Event(stage: output.stageID, start: f.fromSeconds, end: f.toSeconds, payload: payload)))
    }
}
