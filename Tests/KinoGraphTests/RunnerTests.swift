import Foundation
import KinoGraph
import KinoMedia
import Testing

@Suite("Graph runner")
struct RunnerTests {
    @Test("a slow consumer holds the producer within the edge capacity", arguments: [1, 4])
    func backPressureBlocks(capacity: Int) throws {
        let source = ProbeSource(count: 40)
        let lead = Locked(0)
        let sink = CollectSink(.video, delay: 0.001) { consumed in
            // Producer progress is bounded by what was consumed plus the queue (and one in hand).
            let ahead = source.progress - consumed
            lead.withLock { $0 = max($0, ahead) }
        }
        let report = try runChain([("src", source), ("sink", sink)],
                                  options: ["sink": NodeOptions(capacity: EdgeCapacity(packets: capacity))])
        #expect(report.status == .completed)
        #expect(sink.frames.map(\.index) == Array(0..<40))
        let stats = try #require(report.stats("sink"))
        #expect(stats.queueHighWater <= capacity)
        #expect(stats.queueCapacity == capacity)
        #expect(lead.current <= capacity + 1)
        #expect(try #require(report.stats("src")).blockedSeconds > 0)
    }

    @Test("the byte limit bounds an edge as well as the packet limit")
    func byteLimit() throws {
        let source = ProbeSource(count: 20, width: 16, height: 16)   // 768 pixel bytes each
        let frameBytes = Packet.frame(source.video.frame(0)).byteSize
        let sink = CollectSink(.video, delay: 0.001)
        let report = try runChain([("src", source), ("sink", sink)], options: [
            "sink": NodeOptions(capacity: EdgeCapacity(packets: 100, bytes: frameBytes * 3)),
        ])
        let stats = try #require(report.stats("sink"))
        #expect(stats.queueHighWater <= 3)
        #expect(stats.queueHighWaterBytes <= frameBytes * 3)
        #expect(sink.frames.count == 20)
    }

    @Test("fan-out: each branch gets every packet, and the slow branch paces the producer")
    func fanOut() throws {
        let source = ProbeSource(count: 30)
        let lead = Locked(0)
        let slow = CollectSink(.video, delay: 0.002) { consumed in
            lead.withLock { $0 = max($0, source.progress - consumed) }
        }
        let fast = CollectSink(.video)
        var builder = GraphBuilder()
        builder.add("src", source)
        builder.add("slow", slow, inputs: ["src"], options: NodeOptions(capacity: EdgeCapacity(packets: 2)))
        builder.add("fast", fast, inputs: ["src"])
        let report = GraphRunner(graph: try builder.build()).run()
        #expect(report.status == .completed)
        #expect(slow.frames.map(\.index) == Array(0..<30))
        #expect(fast.frames.map(\.index) == Array(0..<30))
        #expect(lead.current <= 3)
    }

    @Test("parallelism N loses nothing and keeps order", arguments: [2, 4])
    func parallelKeepsOrder(parallelism: Int) throws {
        let sink = CollectSink(.event)
        let report = try runChain(
            [("src", SyntheticVideoSource(count: 120)), ("label", LabelStage(jitter: 0.0004)), ("sink", sink)],
            options: ["label": NodeOptions(parallelism: parallelism, capacity: EdgeCapacity(packets: 4))])
        #expect(report.status == .completed)
        let indices = sink.packets.compactMap { packet -> Int? in
            guard case .event(let e) = packet.payload, case .number(let n)? = e.payload["index"] else { return nil }
            return Int(n)
        }
        #expect(indices == Array(0..<120))
        let stats = try #require(report.stats("label"))
        #expect(stats.parallelism == parallelism)
        #expect(stats.packetsIn == 121)      // 120 frames and the info packet
        #expect(stats.packetsOut == 121)
    }

    @Test("heavy stages share the compute pool and still finish")
    func heavyPool() throws {
        let sink = CollectSink(.event)
        let report = try runChain(
            [("src", SyntheticVideoSource(count: 50)), ("label", LabelStage()), ("sink", sink)],
            options: ["label": NodeOptions(parallelism: 3, heavy: true)])
        #expect(report.status == .completed)
        #expect(sink.packets.count == 50)
    }

    @Test("cancelling stops the source and sinks finish marked cancelled")
    func cancellation() throws {
        let token = CancelToken()
        let source = ProbeSource(count: 1_000_000)
        let sink = CollectSink(.video) { n in if n == 10 { token.cancel() } }
        let report = try runChain([("src", source), ("sink", sink)],
                                  options: ["sink": NodeOptions(capacity: EdgeCapacity(packets: 4))], cancel: token)
        #expect(report.status == .cancelled)
        #expect(report.failure == nil)
        #expect(sink.cancelledAtFinish == true)
        #expect(source.progress < 100)
        // Everything the source emitted was still delivered: edges drain, they do not drop.
        #expect(sink.frames.count == source.progress)
    }

    @Test("the first error stops the graph and names the stage, time and cause")
    func firstErrorPropagates() throws {
        let source = ProbeSource(count: 1_000_000)
        let sink = CollectSink(.event)
        let report = try runChain([("src", source), ("label", LabelStage(failAt: 7)), ("sink", sink)])
        #expect(report.status == .failed)
        let failure = try #require(report.failure)
        #expect(failure.stage == "label")
        #expect(failure.seconds == 7.0 / 30.0)
        #expect(failure.message == "boom on frame 7")
        #expect(failure.error.localizedDescription.contains("'label' failed at 0.233 s: boom on frame 7"))
        #expect(source.progress < 1000)
        #expect(sink.packets.count == 7)
        #expect(sink.cancelledAtFinish == true)
    }

    @Test("an error in a parallel stage is reported and the run still ends")
    func parallelError() throws {
        let report = try runChain(
            [("src", SyntheticVideoSource(count: 10_000)), ("label", LabelStage(failAt: 33)),
             ("sink", CollectSink(.event))],
            options: ["label": NodeOptions(parallelism: 4)])
        #expect(report.status == .failed)
        #expect(report.failure?.stage == "label")
        #expect(report.failure?.seconds == 33.0 / 30.0)
    }

    @Test("the report serialises to JSON with stats for every stage")
    func reportJSON() throws {
        let report = try runChain([("src", SyntheticVideoSource(count: 5)), ("sink", CollectSink())])
        let data = try report.jsonData()
        let decoded = try JSONDecoder().decode(RunReport.self, from: data)
        #expect(decoded == report)
        let text = String(decoding: data, as: UTF8.self)
        for key in ["packetsIn", "packetsOut", "busySeconds", "queueHighWater", "status"] {
            #expect(text.contains("\"\(key)\""))
        }
        #expect(report.stats("src")?.packetsOut == 6)
        #expect(report.stats("sink")?.packetsIn == 6)
    }

    @Test("a diamond (one source feeding both sides of a join) does not deadlock with tiny queues")
    func diamondJoin() throws {
        var builder = GraphBuilder()
        let tiny = NodeOptions(capacity: EdgeCapacity(packets: 1))
        builder.add("v", SyntheticVideoSource(count: 60))
        builder.add("sparse", SampleStage(mode: .everyNth(10)), inputs: ["v"], options: tiny)
        builder.add("j", TimeJoinStage(first: .video, second: .video), inputs: ["sparse", "v"], options: tiny)
        let sink = CollectSink(.joined)
        builder.add("sink", sink, inputs: ["j"], options: tiny)
        let report = GraphRunner(graph: try builder.build()).run()
        #expect(report.status == .completed)
        let pairs = sink.packets.compactMap { p -> (Int, Int)? in
            guard case .joined(let a, let b?) = p.payload, case .videoFrame(let f) = a.payload,
                  case .videoFrame(let g) = b.payload else { return nil }
            return (f.index, g.index)
        }
        #expect(pairs.map(\.0) == [0, 10, 20, 30, 40, 50])
        #expect(pairs.allSatisfy { $0.0 == $0.1 })        // matched with the same frame from the other side
    }

    @Test("heavy stages never compute more at once than the pool has slots", arguments: [1, 2])
    func poolLimit(slots: Int) throws {
        final class Busy: ProcessingStage {
            let inputTypes: [PortType] = [.video]
            let outputType: PortType? = .video
            let isStateless = true
            let isHeavy = true
            let active: Locked<(now: Int, peak: Int)>
            init(_ active: Locked<(now: Int, peak: Int)>) { self.active = active }
            func process(_ packet: Packet, input: Int, output: StageOutput) throws {
                active.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                Thread.sleep(forTimeInterval: 0.001)
                active.withLock { $0.now -= 1 }
                output.emit(packet)
            }
        }
        let active = Locked((now: 0, peak: 0))      // shared: counts both stages together
        let a = Busy(active), b = Busy(active)
        var builder = GraphBuilder()
        builder.add("v", SyntheticVideoSource(count: 40))
        builder.add("a", a, inputs: ["v"], options: NodeOptions(parallelism: 3))
        builder.add("b", b, inputs: ["a"], options: NodeOptions(parallelism: 3))
        builder.add("sink", CollectSink(), inputs: ["b"])
        let report = GraphRunner(graph: try builder.build(), pool: ComputePool(slots: slots)).run()
        #expect(report.status == .completed)
        #expect(active.current.peak <= slots)
        #expect(active.current.peak >= 1)
    }

    @Test("progress snapshots arrive while the run goes on")
    func progress() throws {
        var builder = GraphBuilder()
        builder.add("v", SyntheticVideoSource(count: 30))
        builder.add("sink", CollectSink(.video, delay: 0.005), inputs: ["v"])
        let snapshots = Locked<[[StageStats]]>([])
        let report = GraphRunner(graph: try builder.build()).run(progressInterval: 0.02) { stats in
            snapshots.withLock { $0.append(stats) }
        }
        #expect(report.status == .completed)
        #expect(!snapshots.current.isEmpty)
        #expect(snapshots.current.allSatisfy { $0.map(\.id) == ["v", "sink"] })
        #expect(report.stats("v")?.lastSeconds == 29.0 / 30.0)
    }

    @Test("a heavy source and a heavy consumer share a one-slot pool without deadlock")
    func heavySourceOneSlot() throws {
        final class HeavySource: SourceStage {
            let inputTypes: [PortType] = []
            let outputType: PortType? = .video
            let isHeavy = true
            let video = SyntheticVideoSource(count: 50)
            func produce(into output: StageOutput) throws {
                for i in 0..<50 { output.emit(.frame(video.frame(i))) }
            }
        }
        let sink = CollectSink(.event)
        var builder = GraphBuilder()
        builder.add("src", HeavySource())
        builder.add("label", LabelStage(), inputs: ["src"],
                    options: NodeOptions(capacity: EdgeCapacity(packets: 1), heavy: true))
        builder.add("sink", sink, inputs: ["label"], options: NodeOptions(heavy: true))
        let report = GraphRunner(graph: try builder.build(), pool: ComputePool(slots: 1)).run()
        #expect(report.status == .completed)
        #expect(sink.packets.count == 50)
    }

    @Test("a stage that emits a packet of the wrong type fails the run with a clear message")
    func wrongTypeEmitted() throws {
        final class Liar: ProcessingStage {
            let inputTypes: [PortType] = [.video]
            let outputType: PortType? = .event
            func process(_ packet: Packet, input: Int, output: StageOutput) throws {
                output.emit(packet)       // a frame on an event output
            }
        }
        let sink = CollectSink(.event)
        let report = try runChain([("v", SyntheticVideoSource(count: 100)), ("liar", Liar()), ("sink", sink)])
        #expect(report.status == .failed)
        #expect(report.failure?.stage == "liar")
        #expect(report.failure?.seconds == 0)
        #expect(report.failure?.message == "emitted a video packet on its event output")
        #expect(sink.packets.isEmpty)
    }
}
