import Foundation

/// How much an edge may hold before its producer blocks.
///
/// Both limits apply, whichever is reached first, as GStreamer's `queue` does. A single packet
/// larger than `bytes` is still let through when the edge is empty, so huge frames slow the
/// graph down instead of deadlocking it.
public struct EdgeCapacity: Sendable, Equatable, Codable {
    /// Most packets waiting at once.
    public var packets: Int
    /// Most payload bytes waiting at once.
    public var bytes: Int

    public init(packets: Int = 16, bytes: Int = 256 << 20) {
        precondition(packets >= 1 && bytes >= 1, "edge capacity must be positive")
        self.packets = packets
        self.bytes = bytes
    }
}

/// Observed fill of one edge, for statistics.
struct EdgeCounters: Sendable {
    var pushed = 0
    var highWaterPackets = 0
    var highWaterBytes = 0
}

/// What a consumer gets from ``InputGate/next()``.
enum InputEvent {
    case packet(Packet, input: Int)
    /// The producer on this input has finished and everything it sent has been taken.
    case ended(input: Int)
}

/// The input side of one consumer: one bounded queue per input edge, sharing one condition.
///
/// Sharing the condition lets the consumer wait on *any* input (a join must not block on one
/// side while the other side's queue fills up and stalls the common producer). Producers
/// wait on the same condition when their queue is full, which is the back-pressure.
final class InputGate: @unchecked Sendable {
    private struct Queue {
        /// Popped slots are set to nil at once so their payloads are freed before compaction.
        var packets: [Packet?] = []
        var head = 0
        var bytes = 0
        var closed = false
        var endReported = false
        var counters = EdgeCounters()
        var count: Int { packets.count - head }

        mutating func append(_ packet: Packet, size: Int) {
            packets.append(packet)
            bytes += size
            counters.pushed += 1
            counters.highWaterPackets = max(counters.highWaterPackets, count)
            counters.highWaterBytes = max(counters.highWaterBytes, bytes)
        }

        /// Pops the head; compacts the storage now and then instead of shifting every time.
        mutating func removeFirst() -> Packet {
            let packet = packets[head]!
            packets[head] = nil
            head += 1
            bytes -= packet.byteSize
            if head >= 32 && head * 2 >= packets.count {
                packets.removeFirst(head)
                head = 0
            }
            return packet
        }
    }

    let capacity: EdgeCapacity
    /// Deliver strictly by time: wait until every open input has a packet, then take the
    /// earliest. Only safe where no input can be held up by another (see `Graph.timeOrderedStages`).
    let ordered: Bool
    private let condition = NSCondition()
    private var queues: [Queue]
    /// Set when the consumer has stopped reading (it failed); pushes are then discarded.
    private var abandoned = false

    init(inputs: Int, capacity: EdgeCapacity, ordered: Bool = false) {
        self.capacity = capacity
        self.ordered = ordered
        self.queues = Array(repeating: Queue(), count: inputs)
    }

    /// Appends a packet to input `index`, blocking while that queue is full.
    ///
    /// - Returns: seconds spent blocked, for statistics.
    @discardableResult
    func push(_ packet: Packet, to index: Int) -> Double {
        let size = packet.byteSize
        condition.lock()
        defer { condition.unlock() }
        var blockedSince: Date?
        while !abandoned && isFull(index, adding: size) {
            if blockedSince == nil { blockedSince = Date() }
            condition.wait()
        }
        let blocked = blockedSince.map { Date().timeIntervalSince($0) } ?? 0
        guard !abandoned else { return blocked }
        queues[index].append(packet, size: size)
        condition.broadcast()
        return blocked
    }

    private func isFull(_ index: Int, adding size: Int) -> Bool {
        let q = queues[index]
        if q.count >= capacity.packets { return true }
        return q.count > 0 && q.bytes + size > capacity.bytes
    }

    /// Marks input `index` finished: its producer will send nothing more.
    func close(_ index: Int) {
        condition.lock()
        queues[index].closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Takes the next packet from any input, blocking until one arrives.
    ///
    /// When several inputs have packets waiting, the one with the earliest time goes first.
    /// Unless the gate is `ordered`, a packet is taken from whichever input has one, so a join
    /// fed twice by one source never waits on one side while the other side stalls the source.
    /// An input that is closed and drained is reported once as `.ended`, so joins can stop
    /// waiting for it.
    /// - Returns: the next event, or `nil` once every input has ended.
    func next() -> InputEvent? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if ordered && !abandoned && queues.contains(where: { !$0.closed && $0.count == 0 }) {
                condition.wait()
                continue
            }
            var best: Int?
            var bestTime = Double.infinity
            for i in queues.indices where queues[i].count > 0 {
                let t = queues[i].packets[queues[i].head]!.seconds
                if best == nil || t < bestTime { best = i; bestTime = t }
            }
            if let i = best {
                let packet = queues[i].removeFirst()
                condition.broadcast()
                return .packet(packet, input: i)
            }
            if abandoned { return nil }
            if let i = queues.indices.first(where: { queues[$0].closed && !queues[$0].endReported }) {
                queues[i].endReported = true
                return .ended(input: i)
            }
            if queues.allSatisfy(\.closed) { return nil }
            condition.wait()
        }
    }

    /// The consumer stops reading: drop what is queued and never block producers again.
    func abandon() {
        condition.lock()
        abandoned = true
        for i in queues.indices {
            queues[i].packets = []
            queues[i].head = 0
            queues[i].bytes = 0
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Counters of every input, in input order.
    var counters: [EdgeCounters] {
        condition.lock()
        defer { condition.unlock() }
        return queues.map(\.counters)
    }
}

/// One producer's fan-out: every consumer has its own queue, filled one after another, so a
/// slow branch slows the producer rather than losing packets.
struct OutputPort: Sendable {
    var targets: [(gate: InputGate, input: Int)]

    /// Delivers to every consumer; returns seconds spent blocked.
    func send(_ packet: Packet) -> Double {
        targets.reduce(0) { $0 + $1.gate.push(packet, to: $1.input) }
    }

    func close() {
        for t in targets { t.gate.close(t.input) }
    }
}
