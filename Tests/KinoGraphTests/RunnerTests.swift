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
}
