import Foundation
import KinoGraph
import KinoMedia

/// Collects everything it receives; remembers whether the run was cancelled when it finished.
final class CollectSink: ProcessingStage {
    let inputTypes: [PortType]
    let outputType: PortType? = nil
    let delay: Double
    private let store = Locked<(packets: [Packet], cancelledAtFinish: Bool?)>(([], nil))
    /// Called with the number of packets received so far, after each one.
    let onPacket: (@Sendable (Int) -> Void)?

    init(_ type: PortType = .any, delay: Double = 0, onPacket: (@Sendable (Int) -> Void)? = nil) {
        self.inputTypes = [type]
        self.delay = delay
        self.onPacket = onPacket
    }

    func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        let n = store.withLock { $0.packets.append(packet); return $0.packets.count }
        onPacket?(n)
    }

    func finish(output: StageOutput) throws {
        store.withLock { $0.cancelledAtFinish = output.isCancelled }
    }

    var packets: [Packet] { store.withLock { $0.packets } }
    var cancelledAtFinish: Bool? { store.withLock { $0.cancelledAtFinish } }

    var frames: [VideoFrame] {
        packets.compactMap { if case .videoFrame(let f) = $0.payload { return f } else { return nil } }
    }
    var clips: [Clip] {
        packets.compactMap { if case .clip(let c) = $0.payload { return c } else { return nil } }
    }
    var chunks: [AudioChunk] {
        packets.compactMap { if case .audioChunk(let c) = $0.payload { return c } else { return nil } }
    }
}

/// A source of `count` frames that counts how many emits have returned (its progress).
final class ProbeSource: SourceStage {
    let inputTypes: [PortType] = []
    let outputType: PortType? = .video
    let count: Int
    let video: SyntheticVideoSource
    private let produced = Locked(0)

    init(count: Int, width: Int = 4, height: Int = 4) {
        self.count = count
        self.video = SyntheticVideoSource(count: count, width: width, height: height)
    }

    var progress: Int { produced.current }

    func produce(into output: StageOutput) throws {
        for i in 0..<count {
            if output.isCancelled { return }
            output.emit(.frame(video.frame(i)))
            produced.withLock { $0 += 1 }
        }
    }
}

/// A stateless frame-to-event stage whose per-packet delay varies, so parallel work finishes
/// out of order; optionally throws on one frame index.
final class LabelStage: ProcessingStage {
    let inputTypes: [PortType] = [.video]
    let outputType: PortType? = .event
    let isStateless = true
    let failAt: Int?
    let jitter: Double

    struct Boom: Error, CustomStringConvertible {
        let index: Int
        var description: String { "boom on frame \(index)" }
    }

    init(failAt: Int? = nil, jitter: Double = 0) {
        self.failAt = failAt
        self.jitter = jitter
    }

    func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .videoFrame(let frame) = packet.payload else { return }
        if jitter > 0 {
            Thread.sleep(forTimeInterval: jitter * Double((frame.index * 7919) % 5))
        }
        if frame.index == failAt { throw Boom(index: frame.index) }
        output.emit(.event(Event(stage: output.stageID, start: frame.seconds, end: frame.seconds + frame.duration,
                                 payload: ["index": .number(Double(frame.index))])))
    }
}

/// Thread-safe box for tests.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// Builds and runs a chain `source → stage(s) → sink`.
func runChain(_ stages: [(String, any Stage)], options: [String: NodeOptions] = [:],
              cancel: CancelToken = CancelToken()) throws -> RunReport {
    var builder = GraphBuilder(name: "test")
    var previous: String?
    for (id, stage) in stages {
        builder.add(id, stage, inputs: previous.map { [$0] } ?? [], options: options[id] ?? NodeOptions())
        previous = id
    }
    return GraphRunner(graph: try builder.build(), pool: ComputePool(slots: 2)).run(cancel: cancel)
}

/// A fresh temporary directory for one test.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinograph-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
