import KinoMedia

/// Pairs each frame with the next one: (f0,f1), (f1,f2), … — the input optical flow needs.
///
/// N frames give N − 1 pairs; a pair's time is its first frame's time.
public final class PairsStage: ProcessingStage {
    private let previous = Locked<VideoFrame?>(nil)

    public init() {}

    public var inputTypes: [PortType] { [.video] }
    public var outputType: PortType? { .framePair }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .videoFrame(let frame) = packet.payload else { return }
        let earlier = previous.withLock { prev -> VideoFrame? in
            defer { prev = frame }
            return prev
        }
        if let earlier {
            output.emit(Packet(seconds: earlier.seconds, payload: .framePair(earlier, frame)))
        }
    }
}

/// Matches every packet of the first input with the packet of the second input current at
/// its time: the latest one whose time is not after it.
///
/// This is a "sample and hold" join, as when attaching the audio window playing under each
/// frame, or the latest flow field to each clip. A first-input packet waits until the second
/// input has moved past its time (or ended), so the match is exact whatever the arrival order.
/// With `maxGap`, a match further back than that many seconds counts as none, and the packet
/// is emitted as `.joined(packet, nil)`.
public final class TimeJoinStage: ProcessingStage {
    public let inputTypes: [PortType]
    public let maxGap: Double?
    private let state = Locked(State())

    private struct State {
        var waiting: [Packet] = []        // first input, not yet matched, in arrival order
        var current: Packet?              // second input: latest packet at or before the frontier
        var ahead: [Packet] = []          // second input, later than `current`
        var secondEnded = false
    }

    /// - Parameters:
    ///   - first: the type of the input every output packet is built around.
    ///   - second: the type of the input matched to it.
    ///   - maxGap: the oldest match, in seconds, still counted; `nil` for no limit.
    public init(first: PortType = .any, second: PortType = .any, maxGap: Double? = nil) {
        self.inputTypes = [first, second]
        self.maxGap = maxGap
    }

    public var outputType: PortType? { .joined }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {
        if input == 0 { output.emit(.info(info)) }
    }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        let ready = state.withLock { s -> [Packet] in
            if input == 0 { s.waiting.append(packet) } else { s.ahead.append(packet) }
            return resolve(&s)
        }
        ready.forEach(output.emit)
    }

    /// When the second input ends, every waiting packet is decided.
    public func inputEnded(_ input: Int, output: StageOutput) throws {
        let ready = state.withLock { s -> [Packet] in
            if input == 1 { s.secondEnded = true }
            return resolve(&s)
        }
        ready.forEach(output.emit)
    }

    public func finish(output: StageOutput) throws {
        let ready = state.withLock { s -> [Packet] in
            s.secondEnded = true
            return resolve(&s)
        }
        ready.forEach(output.emit)
    }

    /// Emits every waiting packet whose match can no longer change.
    private func resolve(_ s: inout State) -> [Packet] {
        var out: [Packet] = []
        while let head = s.waiting.first {
            // Move second-input packets at or before `head` into `current`.
            while let next = s.ahead.first, next.seconds <= head.seconds {
                s.current = next
                s.ahead.removeFirst()
            }
            // Undecided while no later second-input packet has arrived and the input is open.
            guard !s.ahead.isEmpty || s.secondEnded else { break }
            s.waiting.removeFirst()
            var match = s.current
            if let m = match, let gap = maxGap, head.seconds - m.seconds > gap { match = nil }
            out.append(Packet(seconds: head.seconds, payload: .joined(head, match)))
        }
        return out
    }
}
