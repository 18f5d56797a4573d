import KinoMedia

/// A node of the graph: declares the port types it reads and writes.
///
/// Concrete stages adopt ``SourceStage`` (no inputs; produces packets) or ``ProcessingStage``
/// (transforms and sinks). Types are checked when the graph is built, so a wrong connection
/// fails before any file is opened.
///
/// A stage is called from one serial queue at a time unless it reports ``isStateless`` and the
/// graph gives it a parallelism above 1; then `process` may run concurrently on several packets.
public protocol Stage: AnyObject, Sendable {
    /// One type per input port, in the order the pipeline lists its inputs.
    var inputTypes: [PortType] { get }
    /// The output type; `nil` for a sink.
    var outputType: PortType? { get }
    /// True when `process` keeps no state between packets, so packets may be processed in parallel.
    var isStateless: Bool { get }
    /// True for compute-bound work (models, flow) that should share the run's ``ComputePool``.
    var isHeavy: Bool { get }
}

extension Stage {
    public var isStateless: Bool { false }
    public var isHeavy: Bool { false }
}

/// A stage that creates packets: a decoder, a generator.
public protocol SourceStage: Stage {
    /// Emits every packet, then returns.
    ///
    /// Check ``StageOutput/isCancelled`` between packets and return early when it is set;
    /// the runner then records the run as cancelled.
    /// - Throws: anything; the run stops and reports this stage and the last time emitted.
    func produce(into output: StageOutput) throws
}

/// A stage that consumes packets: a transform (has an output) or a sink (has none).
public protocol ProcessingStage: Stage {
    /// Handles one packet from input `input`.
    /// - Throws: anything; the run stops and reports this stage and the packet's time.
    func process(_ packet: Packet, input: Int, output: StageOutput) throws

    /// Handles stream facts from upstream. The default forwards them downstream.
    func receive(info: SourceInfo, input: Int, output: StageOutput) throws

    /// Called once when input `input` has ended (its producer finished and it is drained).
    /// The default does nothing; joins use it to stop waiting for that side.
    func inputEnded(_ input: Int, output: StageOutput) throws

    /// Called once after every input has ended (or the run was cancelled): emit what is
    /// buffered, close files. Not called when the stage itself failed.
    func finish(output: StageOutput) throws
}

extension ProcessingStage {
    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {
        output.emit(.info(info))
    }

    /// Does nothing: most stages only care when all inputs have ended (``finish(output:)``).
    public func inputEnded(_ input: Int, output: StageOutput) throws {}

    public func finish(output: StageOutput) throws {}
}

/// A file a sink wrote, as the run report lists it.
public struct OutputFile: Sendable, Codable, Equatable {
    /// The id of the stage that wrote it.
    public var stage: String
    /// Where the file is now (a `.incomplete` name when the run did not finish).
    public var path: String
    /// False when the run was cancelled or failed before the sink saw the end of its input.
    public var complete: Bool

    public init(stage: String, path: String, complete: Bool) {
        self.stage = stage
        self.path = path
        self.complete = complete
    }
}

/// What a source's decoder met on one stream during a run.
public struct DecodedStream: Sendable, Codable, Equatable {
    /// The id of the source stage.
    public var stage: String
    /// `video:N` or `audio:N`: the stream's kind and index in the container.
    public var stream: String
    public var health: DecodeHealth

    public init(stage: String, stream: String, health: DecodeHealth) {
        self.stage = stage
        self.stream = stream
        self.health = health
    }
}

/// Where a stage sends its packets, and what it may ask of the run.
///
/// `emit` blocks while a downstream queue is full; that is how back-pressure reaches sources.
/// Stages running in parallel get a buffering output, whose packets the runner re-orders and
/// forwards once the packet is done.
public final class StageOutput: @unchecked Sendable {
    /// The id of the stage this output belongs to.
    public let stageID: String
    private let port: OutputPort?
    private let token: CancelToken
    private let files: Locked<[OutputFile]>
    private let streams: Locked<[DecodedStream]>
    private let labels: Locked<[FileLabels]>
    private let counts = Locked<(emitted: Int, blocked: Double, lastTime: Double?)>((0, 0, nil))
    private let buffering: Bool
    private let buffer = Locked<[Packet]>([])

    /// The stage's declared output type; packets of another type are refused.
    let declared: PortType?
    private let misuse = Locked<String?>(nil)

    init(stageID: String, declared: PortType?, port: OutputPort?, token: CancelToken,
         files: Locked<[OutputFile]>, streams: Locked<[DecodedStream]> = Locked([]),
         labels: Locked<[FileLabels]> = Locked([]), buffering: Bool) {
        self.declared = declared
        self.labels = labels
        self.streams = streams
        self.stageID = stageID
        self.port = port
        self.token = token
        self.files = files
        self.buffering = buffering
    }

    /// Sends a packet to every consumer, blocking while any of their queues is full.
    ///
    /// A sink may call it; the packet then goes nowhere.
    /// A packet whose type differs from the stage's declared output is not delivered: the run
    /// is cancelled and the stage fails with a message saying what it emitted.
    public func emit(_ packet: Packet) {
        if let type = packet.payload.portType, let declared, type != declared {
            misuse.withLock { if $0 == nil { $0 = "emitted a \(type) packet on its \(declared) output" } }
            token.cancel()
            return
        }
        counts.withLock {
            $0.emitted += 1
            if !packet.isInfo { $0.lastTime = packet.seconds }
        }
        if buffering {
            buffer.withLock { $0.append(packet) }
        } else if let port {
            // A heavy source computes between emits holding a pool slot; it must not keep the
            // slot while it waits on a full queue, or the consumer may never get one.
            let pool = slotPool.current
            pool?.release()
            let blocked = port.send(packet)
            pool?.acquire()
            counts.withLock { $0.blocked += blocked }
        }
    }

    /// Set while a heavy source runs: the pool whose slot it holds between emits.
    let slotPool = Locked<ComputePool?>(nil)

    /// True once the run has been cancelled (by the caller or by a failing stage).
    public var isCancelled: Bool { token.isCancelled }

    /// Records a file this stage wrote, for the run report.
    public func recordFile(_ path: String, complete: Bool) {
        files.withLock { $0.append(OutputFile(stage: stageID, path: path, complete: complete)) }
    }

    /// Records what a source's decoder met on `stream` (`video:0`), for the run report; a later
    /// report for the same stream replaces the earlier one.
    public func recordDecoding(stream: String, _ health: DecodeHealth) {
        streams.withLock { list in
            let entry = DecodedStream(stage: stageID, stream: stream, health: health)
            if let i = list.firstIndex(where: { $0.stage == stageID && $0.stream == stream }) { list[i] = entry } else { list.append(entry) }
        }
    }

    /// Records a classifier stage's conclusion about the whole file, for the run report; a
    /// later record from the same stage replaces the earlier one.
    public func recordLabels(_ record: FileLabels) {
        labels.withLock { list in
            if let i = list.firstIndex(where: { $0.stage == record.stage }) { list[i] = record } else { list.append(record) }
        }
    }

    /// The first type violation, if the stage emitted a packet of the wrong type.
    var misuseMessage: String? { misuse.current }

    /// Packets emitted so far and seconds spent blocked on full queues.
    var statistics: (emitted: Int, blocked: Double, lastTime: Double?) { counts.current }

    /// Takes the buffered packets (buffering outputs only).
    func drain() -> [Packet] {
        buffer.withLock { packets in
            defer { packets = [] }
            return packets
        }
    }
}
