import KinoGraph
import Testing

@Suite("Graph checks before running")
struct GraphBuildTests {
    @Test("a port mismatch names both ends")
    func portMismatch() {
        var builder = GraphBuilder()
        builder.add("frames", SyntheticVideoSource(count: 1))
        builder.add("out", JSONLSink(path: "/tmp/never.jsonl"), inputs: ["frames"])
        #expect(throws: GraphError.portMismatch(from: "frames", output: .video, to: "out", port: 0, expected: .event)) {
            try builder.build()
        }
        let message = GraphError.portMismatch(from: "frames", output: .video, to: "out", port: 0, expected: .event)
            .localizedDescription
        #expect(message == "cannot connect 'frames' (outputs video) to 'out' input 0 (expects event)")
    }

    @Test("cycles are found and listed")
    func cycle() {
        var builder = GraphBuilder()
        builder.add("a", SampleStage(mode: .everyNth(3)), inputs: ["b"])
        builder.add("b", SampleStage(mode: .everyNth(2)), inputs: ["a"])
        #expect(throws: GraphError.self) { try builder.build() }
        do {
            _ = try builder.build()
        } catch let error as GraphError {
            guard case .cycle(let ids) = error else { Issue.record("expected a cycle, got \(error)"); return }
            #expect(Set(ids) == ["a", "b"])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("dangling inputs, duplicate ids, wrong input counts, sinks used as inputs")
    func shapeErrors() {
        var dangling = GraphBuilder()
        dangling.add("s", SampleStage(mode: .everyNth(2)), inputs: ["nowhere"])
        #expect(throws: GraphError.danglingInput(stage: "s", input: "nowhere", line: nil)) { try dangling.build() }

        var duplicate = GraphBuilder()
        duplicate.add("x", SyntheticVideoSource(count: 1))
        duplicate.add("x", SyntheticVideoSource(count: 1))
        #expect(throws: GraphError.duplicateStage(id: "x", line: nil)) { try duplicate.build() }

        var count = GraphBuilder()
        count.add("v", SyntheticVideoSource(count: 1))
        count.add("j", TimeJoinStage(), inputs: ["v"])
        #expect(throws: GraphError.inputCount(stage: "j", expected: 2, got: 1, line: nil)) { try count.build() }

        var sink = GraphBuilder()
        sink.add("v", SyntheticVideoSource(count: 1))
        sink.add("c", CollectSink(), inputs: ["v"])
        sink.add("d", CollectSink(), inputs: ["c"])
        #expect(throws: GraphError.noOutput(from: "c", to: "d")) { try sink.build() }
    }

    @Test("parallelism is refused for stages that keep state")
    func parallelismOnStatefulStage() {
        var builder = GraphBuilder()
        builder.add("v", SyntheticVideoSource(count: 1))
        builder.add("p", PairsStage(), inputs: ["v"], options: NodeOptions(parallelism: 2))
        #expect(throws: GraphError.parallelismUnsupported(stage: "p", requested: 2)) { try builder.build() }
    }

    @Test("strict time merging is chosen only where it cannot deadlock")
    func orderedMerges() throws {
        var independent = GraphBuilder()
        independent.add("v", SyntheticVideoSource(count: 1))
        independent.add("a", SyntheticAudioSource(seconds: 1))
        independent.add("win", AudioWindowStage(window: 1), inputs: ["a"])
        independent.add("j", TimeJoinStage(), inputs: ["v", "win"])
        #expect(try independent.build().timeOrderedStages() == ["j"])

        var diamond = GraphBuilder()
        diamond.add("v", SyntheticVideoSource(count: 1))
        diamond.add("s", SampleStage(mode: .everyNth(2)), inputs: ["v"])
        diamond.add("j", TimeJoinStage(), inputs: ["s", "v"])
        #expect(try diamond.build().timeOrderedStages().isEmpty)

        var crossing = GraphBuilder()
        crossing.add("v", SyntheticVideoSource(count: 1))
        crossing.add("a", SyntheticAudioSource(seconds: 1))
        crossing.add("j1", TimeJoinStage(), inputs: ["v", "a"])
        crossing.add("j2", TimeJoinStage(), inputs: ["a", "v"])
        #expect(try crossing.build().timeOrderedStages().isEmpty)

        var downstream = GraphBuilder()
        downstream.add("v", SyntheticVideoSource(count: 1))
        downstream.add("a", SyntheticAudioSource(seconds: 1))
        downstream.add("j", TimeJoinStage(), inputs: ["v", "a"])
        downstream.add("k", TimeJoinStage(), inputs: ["j", "v"])
        #expect(try downstream.build().timeOrderedStages() == ["j"])
    }
}
