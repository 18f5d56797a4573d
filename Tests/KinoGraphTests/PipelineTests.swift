import Foundation
import KinoGraph
import Testing

/// The bundled sample pipeline, found from this file's location.
private let samplePipelinePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pipelines/sample.yaml").path

/// Parses and builds `yaml` (in `context`), returning the error it throws.
func pipelineError(for yaml: String, context: BuildContext = BuildContext()) -> GraphError? {
    do {
        _ = try PipelineSpec.parse(yaml: yaml).makeGraph(context: context)
        return nil
    } catch let error as GraphError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

private let header = "name: t\nstages:\n"

@Suite("Pipeline YAML")
struct PipelineTests {
    @Test("the bundled sample pipeline parses, builds and runs to completion")
    func samplePipeline() throws {
        let spec = try PipelineSpec.load(path: samplePipelinePath)
        #expect(spec.name == "sample")
        let directory = temporaryDirectory()
        let graph = try spec.makeGraph(context: BuildContext(outputDirectory: directory.path))
        #expect(graph.nodes.count == spec.stages.count)
        #expect(graph.node("motion")?.options.parallelism == 2)
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run()
        #expect(report.status == .completed)
        #expect(report.outputs.count == 4)
        #expect(report.outputs.allSatisfy { $0.complete })
        let frames = try String(contentsOf: directory.appendingPathComponent("frames.jsonl"), encoding: .utf8)
        #expect(frames.split(separator: "\n").count == 5)      // 150 frames at 30 fps, one a second
        let clips = try String(contentsOf: directory.appendingPathComponent("clips.jsonl"), encoding: .utf8)
        #expect(clips.split(separator: "\n").count == 5)       // starts 0, 30, …, 120; the last ends at 150
        let audio = try String(contentsOf: directory.appendingPathComponent("audio.jsonl"), encoding: .utf8)
        #expect(audio.split(separator: "\n").count == 9)       // 1 s windows every 0.5 s over 5 s
    }

    @Test("options get their declared defaults and types")
    func defaults() throws {
        let spec = try PipelineSpec.parse(yaml: header + """
              - {id: v, kind: synthetic-video}
              - {id: s, kind: sample, inputs: [v], options: {mode: clips, clip_length: 4}}
            """)
        let graph = try spec.makeGraph()
        let sample = try #require(graph.node("s")?.stage as? SampleStage)
        #expect(sample.mode == .clips(ClipSpec(length: 4, frameStride: 1, clipStride: nil, policy: .repeatLast)))
        #expect(graph.node("s")?.line == 4)
    }

    @Test("each bad pipeline is rejected with a clear message and its line",
          arguments: [
              ("stages:\n  - {id: v, kind: synthetic-video}\n", "pipeline needs 'name'", 1),
              ("name: t\n", "pipeline needs a 'stages' list", 1),
              ("name: t\nstages: []\n", "'stages' must be a non-empty list", 2),
              ("name: t\nstage: []\n", "pipeline has unknown key 'stage'", 2),
              ("name: t\nstages:\n  - {id: v, kind: no-such-kind}\n", "stage 'v' has unknown kind 'no-such-kind'", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video, options: {fames: 3}}\n",
               "stage 'v' has unknown option 'fames' (kind 'synthetic-video' takes: frames, fps,", 3),
              ("name: t\nstages:\n  - id: v\n    kind: synthetic-video\n    options:\n      frames: many\n",
               "stage 'v' option 'frames' must be an integer, got 'many'", 6),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video, options: {frames: \"3\"}}\n",
               "option 'frames' must be an integer, got '3'", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video, options: {fps: 0}}\n",
               "option 'fps' must be an integer ≥ 1, got '0'", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video}\n  - {id: s, kind: sample, inputs: [v], options: {mode: often}}\n",
               "option 'mode' must be one of fps, every-nth, uniform, clips, got 'often'", 4),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video}\n  - {id: s, kind: sample, inputs: [v]}\n",
               "stage 's' needs option 'mode'", 4),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video}\n  - {id: s, kind: sample, inputs: [v], options: {mode: fps}}\n",
               "stage 's' needs option 'fps'", 4),
              ("name: t\nstages:\n  - {id: s, kind: sample, inputs: [ghost], options: {mode: every-nth, n: 2}}\n",
               "stage 's' reads from 'ghost', but no stage has that id", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video}\n  - {id: v, kind: synthetic-video}\n",
               "stage id 'v' is used more than once", 4),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video, colour: red}\n",
               "stage 'v' has unknown key 'colour'", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video, parallelism: two}\n",
               "'parallelism' must be an integer ≥ 1, got 'two'", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video, inputs: v}\n",
               "'inputs' must be a list of stage ids", 3),
              ("name: t\nstages:\n  - {id: v, kind: synthetic-video\n", "not valid YAML", 4),
          ] as [(String, String, Int)])
    func rejected(yaml: String, message: String, line: Int) throws {
        let error = try #require(pipelineError(for: yaml))
        let text = try #require(error.errorDescription)
        #expect(text.contains(message), "got: \(text)")
        #expect(error.line == line, "got: \(text)")
    }

    @Test("cycles are reported with the stages involved")
    func cycle() throws {
        let error = try #require(pipelineError(for: header + """
              - {id: a, kind: sample, inputs: [b], options: {mode: every-nth, n: 2}}
              - {id: b, kind: sample, inputs: [a], options: {mode: every-nth, n: 2}}
            """))
        #expect(error.errorDescription?.hasPrefix("stages form a cycle: ") == true)
        #expect(error.errorDescription?.contains("a -> b") == true || error.errorDescription?.contains("b -> a") == true)
    }

    @Test("port types are checked when the pipeline is built")
    func portMismatch() throws {
        let error = try #require(pipelineError(for: header + """
              - {id: tone, kind: synthetic-audio}
              - {id: s, kind: sample, inputs: [tone], options: {mode: every-nth, n: 2}}
            """))
        #expect(error == .portMismatch(from: "tone", output: .audio, to: "s", port: 0, expected: .video))
    }

    @Test("every built-in kind documents every option in docs/PIPELINES.md")
    func documented() throws {
        let docs = try String(contentsOfFile: samplePipelinePath.replacingOccurrences(
            of: "pipelines/sample.yaml", with: "docs/PIPELINES.md"), encoding: .utf8)
        for name in StageRegistry.builtIn.names {
            #expect(docs.contains("### `\(name)`"), "kind \(name) is not documented")
            for option in StageRegistry.builtIn[name]!.options {
                #expect(docs.contains("`\(option.name)`"), "option \(name).\(option.name) is not documented")
            }
        }
    }
}
