import Foundation

/// Drives one stage for one run: pulls from its gate, calls the stage, pushes to its port.
final class NodeWorker: Sendable {
    let node: GraphNode
    private let gate: InputGate?
    private let port: OutputPort
    private let runState: RunState
    private let pool: ComputePool
    private let output: StageOutput
    private let counters = Locked<(packetsIn: Int, busy: Double)>((0, 0))
    private let failed = Locked(false)

    init(node: GraphNode, gate: InputGate?, port: OutputPort, run: RunState, pool: ComputePool) {
        self.node = node
        self.gate = gate
        self.port = port
        self.runState = run
        self.pool = pool
        self.output = StageOutput(stageID: node.id, declared: node.stage.outputType, port: port,
                                  token: run.token, files: run.files, streams: run.streams, labels: run.labels, buffering: false)
    }

    private var heavy: Bool { node.options.heavy ?? node.stage.isHeavy }

    /// Runs the stage to its end, then closes its output edges.
    func run() {
        defer { port.close() }
        if let source = node.stage as? any SourceStage {
            if heavy {
                pool.acquire()
                output.slotPool.withLock { $0 = pool }
            }
            timed { try source.produce(into: output) } onError: { self.fail($0, at: self.output.statistics.lastTime) }
            checkMisuse(at: output.statistics.lastTime)
            if heavy {
                output.slotPool.withLock { $0 = nil }
                pool.release()
            }
        } else if let stage = node.stage as? any ProcessingStage, let gate {
            if node.options.parallelism > 1 {
                runParallel(stage, gate: gate)
            } else {
                runSerial(stage, gate: gate)
            }
            if !failed.current {
                timed { try self.withPool(into: self.output) { try stage.finish(output: $0) } }
                    onError: { self.fail($0, at: self.lastInputTime) }
                checkMisuse(at: lastInputTime)
            }
        }
    }

    private let lastInput = Locked<Double?>(nil)
    private var lastInputTime: Double? { lastInput.current }

    private func runSerial(_ stage: any ProcessingStage, gate: InputGate) {
        while let event = gate.next() {
            guard case .packet(let packet, let input) = event else {
                if case .ended(let input) = event {
                    timed { try self.withPool(into: self.output) { try stage.inputEnded(input, output: $0) } }
                        onError: { self.fail($0, at: self.lastInputTime) }
                }
                if failed.current { return }
                continue
            }
            counted(packet)
            timed { try self.withPool(into: self.output) { try Self.handle(stage, packet, input, $0) } }
                onError: { self.fail($0, at: packet.seconds) }
            checkMisuse(at: packet.seconds)
            if failed.current { return }
        }
    }

    /// Up to N packets in flight on a concurrent queue; a serial emitter queue forwards results
    /// strictly in arrival order, and only then frees the slot, so memory stays bounded.
    private func runParallel(_ stage: any ProcessingStage, gate: InputGate) {
        let slots = DispatchSemaphore(value: node.options.parallelism)
        let work = DispatchQueue(label: "kino.stage.\(node.id).work", attributes: .concurrent)
        let emitter = DispatchQueue(label: "kino.stage.\(node.id).emit")
        let pending = Locked<(next: Int, results: [Int: Result<[Packet], any Error>], times: [Int: Double])>(
            (0, [:], [:]))
        let group = DispatchGroup()
        var sequence = 0
        // Parallel stages are stateless, so the end of one input means nothing to them.
        while let event = gate.next() {
            if failed.current { break }
            guard case .packet(let packet, let input) = event else { continue }
            counted(packet)
            slots.wait()
            let seq = sequence
            sequence += 1
            work.async(group: group) {
                let buffer = self.makeBuffer()
                let start = now()
                let result = Result<[Packet], any Error> {
                    try self.withPoolSlot { try Self.handle(stage, packet, input, buffer) }
                    return buffer.drain()
                }
                self.counters.withLock { $0.busy += now() - start }
                emitter.async(group: group) {
                    pending.withLock {
                        $0.results[seq] = result
                        $0.times[seq] = packet.seconds
                    }
                    while let (result, time) = pending.withLock({ p -> (Result<[Packet], any Error>, Double)? in
                        guard let r = p.results.removeValue(forKey: p.next) else { return nil }
                        p.next += 1
                        return (r, p.times.removeValue(forKey: p.next - 1) ?? 0)
                    }) {
                        switch result {
                        case .success(let packets):
                            if !self.failed.current {
                                packets.forEach(self.output.emit)
                                self.checkMisuse(at: time)
                            }
                        case .failure(let error):
                            self.fail(error, at: time)
                        }
                        slots.signal()
                    }
                }
            }
        }
        group.wait()
    }

    private static func handle(_ stage: any ProcessingStage, _ packet: Packet, _ input: Int,
                               _ output: StageOutput) throws {
        if case .info(let info) = packet.payload {
            try stage.receive(info: info, input: input, output: output)
        } else {
            try stage.process(packet, input: input, output: output)
        }
    }

    private func makeBuffer() -> StageOutput {
        StageOutput(stageID: node.id, declared: node.stage.outputType, port: nil, token: runState.token,
                    files: runState.files, streams: runState.streams, labels: runState.labels, buffering: true)
    }

    /// Heavy stages compute into a buffer while holding a pool slot and emit after releasing
    /// it, so a slot is never held by a stage blocked on a full queue.
    private func withPool(into output: StageOutput, _ body: (StageOutput) throws -> Void) throws {
        guard heavy else { return try body(output) }
        let buffer = makeBuffer()
        defer { buffer.drain().forEach(output.emit) }
        try pool.withSlot { try body(buffer) }
    }

    private func withPoolSlot(_ body: () throws -> Void) throws {
        if heavy { try pool.withSlot(body) } else { try body() }
    }

    private func counted(_ packet: Packet) {
        counters.withLock { $0.packetsIn += 1 }
        lastInput.withLock { $0 = packet.seconds }
    }

    /// Runs `body`, adding its duration less any new blocked time to the busy total.
    private func timed(_ body: () throws -> Void, onError: (any Error) -> Void) {
        let blockedBefore = output.statistics.blocked
        let start = now()
        do { try body() } catch { onError(error) }
        let blocked = output.statistics.blocked - blockedBefore
        counters.withLock { $0.busy += max(0, now() - start - blocked) }
    }

    /// Fails the stage if it emitted a packet of a type other than its declared output.
    private func checkMisuse(at seconds: Double?) {
        guard !failed.current, let message = output.misuseMessage else { return }
        fail(GraphError.invalidInput(stage: node.id, message: message), at: seconds)
    }

    /// Records the failure and stops reading, so producers never block on this stage again.
    ///
    /// The run is cancelled before the inputs are abandoned: a source blocked on this stage's
    /// full queue must see the cancellation as soon as its push returns, or it would race ahead
    /// with pushes that now go nowhere.
    private func fail(_ error: any Error, at seconds: Double?) {
        failed.withLock { $0 = true }
        runState.fail(stage: node.id, seconds: seconds, error: error)
        gate?.abandon()
    }

    /// This stage's statistics; call after the run.
    func statistics() -> StageStats {
        let c = counters.current
        let out = output.statistics
        let queues = gate?.counters ?? []
        return StageStats(id: node.id, kind: node.kind, packetsIn: c.packetsIn, packetsOut: out.emitted,
                          busySeconds: c.busy, blockedSeconds: out.blocked,
                          queueHighWater: queues.map(\.highWaterPackets).max() ?? 0,
                          queueHighWaterBytes: queues.map(\.highWaterBytes).max() ?? 0,
                          queueCapacity: gate == nil ? 0 : node.options.capacity.packets,
                          parallelism: node.options.parallelism, lastSeconds: out.lastTime)
    }
}
