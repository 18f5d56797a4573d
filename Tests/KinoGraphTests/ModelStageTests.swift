import Foundation
import KinoDSP
import KinoGraph
import KinoMedia
import KinoModels
import KinoTensor
import Testing

/// Tiny random-weight checkpoints of KinoModels' parity tests (tools/make-model-fixtures.py).
private func modelFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("KinoModelsTests/Fixtures/\(name)").path
}

private func events(_ sink: CollectSink) -> [Event] {
    sink.packets.compactMap { if case .event(let e) = $0.payload { return e } else { return nil } }
}

/// Emits fixed spectrogram blocks, one per second.
private final class BlockSource: SourceStage {
    let inputTypes: [PortType] = []
    let outputType: PortType? = .spectrogram
    let blocks: [FeatureMatrix]

    init(_ blocks: [FeatureMatrix]) { self.blocks = blocks }

    func produce(into output: StageOutput) throws {
        for (i, features) in blocks.enumerated() {
            let block = SpectrogramBlock(kind: .ast, index: i, startSeconds: Double(i), endSeconds: Double(i) + 0.64,
                                         validFrames: features.frames, features: features)
            output.emit(Packet(seconds: Double(i), payload: .spectrogram(block)))
        }
    }
}

@Suite("model stages")
struct ModelStageTests {
    @Test("without a model folder the vivit stage is off and says so, labelling nothing")
    func off() throws {
        let spec = try PipelineSpec.parse(yaml: """
            name: off
            stages:
              - {id: v, kind: synthetic-video, options: {frames: 20, width: 32, height: 32}}
              - {id: clips, kind: sample, inputs: [v], options: {mode: clips, clip_length: 8}}
              - {id: classes, kind: vivit, inputs: [clips]}
              - {id: out, kind: jsonl, inputs: [classes], options: {path: labels.jsonl}}
            """)
        let directory = temporaryDirectory()
        let graph = try spec.makeGraph(context: BuildContext(outputDirectory: directory.path))
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run(cancel: CancelToken())
        #expect(report.failure == nil)
        let text = try String(contentsOf: directory.appendingPathComponent("labels.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"status\":\"off\"") == true)
        #expect(!text.contains("\"labels\""))
    }

    @Test("vivit labels each clip as the model does directly, then averages the run")
    func clips() throws {
        let model = try ModelRegistry.load(directory: modelFixture("vivit-a"))
        let sink = CollectSink(.event)
        let stage = VideoClassifierStage(id: "labels", model: model, topK: 3, batch: 2)
        _ = try runChain([("v", SyntheticVideoSource(count: 20, width: 40, height: 32)),
                          ("clips", SampleStage(mode: .clips(ClipSpec(length: 8)))), ("labels", stage), ("sink", sink)])
        let got = events(sink)
        // 20 frames in clips of 8: three clips (the last repeats frame 19), then the summary.
        #expect(got.count == 4)
        #expect(got.last?.payload["summary"] == .bool(true))
        let video = SyntheticVideoSource(count: 20, width: 40, height: 32)
        let frames = (0..<8).map { video.frame($0) }.map { RGB8Image(width: $0.width, height: $0.height, pixels: $0.bytes) }
        let input = VideoPreprocessor(cropSize: 32).clip(frames).reshaped([1, 8, 3, 32, 32])
        let expected = model.topLabels(model.probabilities(try #require(try model(input).logits))[0], k: 3)
        guard case .array(let labels)? = got.first?.payload["labels"], case .object(let best) = labels[0] else {
            Issue.record("no labels in \(String(describing: got.first))")
            return
        }
        #expect(best["label"] == .string(expected[0].label))
        if case .number(let score)? = best["score"] { #expect(abs(Float(score) - expected[0].score) < 1e-5) }
        #expect(got.first?.start == 0)
    }

    @Test("vit labels single frames as the model does directly, with the folder's preprocessing")
    func frames() throws {
        let directory = modelFixture("vit-a")
        let spec = try PipelineSpec.parse(yaml: """
            name: frames
            stages:
              - {id: v, kind: synthetic-video, options: {frames: 12, width: 40, height: 30}}
              - {id: every, kind: sample, inputs: [v], options: {mode: every-nth, n: 4}}
              - {id: classes, kind: vit, inputs: [every], options: {model: "\(directory)", top_k: 2}}
              - {id: out, kind: jsonl, inputs: [classes], options: {path: labels.jsonl}}
            """)
        let out = temporaryDirectory()
        let report = GraphRunner(graph: try spec.makeGraph(context: BuildContext(outputDirectory: out.path)), pool: ComputePool(slots: 2))
            .run(cancel: CancelToken())
        #expect(report.failure == nil)
        let lines = try String(contentsOf: out.appendingPathComponent("labels.jsonl"), encoding: .utf8).split(separator: "\n")
        let rows = lines.map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        // Frames 0, 4, 8, then the summary.
        #expect(rows.count == 4)
        let first = try #require(rows.first?["payload"] as? [String: Any])
        #expect(first["frames"] as? [Int] == [0])
        #expect(first["model"] as? String == "vit-a")
        let model = try ModelRegistry.load(directory: directory)
        let frame = SyntheticVideoSource(count: 12, width: 40, height: 30).frame(0)
        let configuration = try ImageProcessorConfiguration.load(directory: directory, imageSize: model.sampleShape.last!)
        let input = ImagePreprocessor(configuration: configuration).pixelValues([RGB8Image(width: 40, height: 30, pixels: frame.bytes)])
        let want = model.topLabels(model.probabilities(try #require(try model(input).logits))[0], k: 2)
        let labels = try #require(first["labels"] as? [[String: Any]])
        #expect(labels[0]["label"] as? String == want[0].label)
        #expect(abs(Float((labels[0]["score"] as! NSNumber).doubleValue) - want[0].score) < 1e-5)
        #expect(report.labels.first?.model == "vit-a" && report.labels.first?.windows == 3)
        // Kino ships no image model: `shipped` is refused, naming the option.
        let refused = try PipelineSpec.parse(yaml: """
            name: refused
            stages:
              - {id: v, kind: synthetic-video, options: {frames: 4, width: 40, height: 30}}
              - {id: classes, kind: vit, inputs: [v], options: {model: shipped}}
            """)
        #expect(throws: GraphError.self) { try refused.makeGraph(context: BuildContext(outputDirectory: out.path)) }
    }

    @Test("ast labels spectrogram windows; average merges consecutive windows into one event")
    func audio() throws {
        let model = try ModelRegistry.load(directory: modelFixture("ast-a"))
        let blocks = (0..<4).map { i in
            FeatureMatrix(frames: 64, bins: 32, values: (0..<(64 * 32)).map { Float(sin(Double($0 + i * 7) * 0.01)) })
        }
        let sink = CollectSink(.event)
        let stage = AudioClassifierStage(id: "sounds", model: model, topK: 2, average: 2, summary: false)
        _ = try runChain([("blocks", BlockSource(blocks)), ("sounds", stage), ("sink", sink)])
        let got = events(sink)
        #expect(got.count == 2)
        #expect(got.map(\.start) == [0, 2])
        #expect(zip(got.map(\.end), [1.64, 3.64]).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(got.first?.payload["averaged"] == .number(2))
        #expect(got.first?.payload["scoring"] == .string("sigmoid"))
    }

    @Test("a checkpoint of the wrong architecture is refused when the pipeline is built")
    func wrongModel() throws {
        let spec = try PipelineSpec.parse(yaml: """
            name: wrong
            stages:
              - {id: v, kind: synthetic-video}
              - {id: clips, kind: sample, inputs: [v], options: {mode: clips, clip_length: 8}}
              - {id: labels, kind: vivit, inputs: [clips], options: {model: "\(modelFixture("ast-a"))"}}
            """)
        #expect(throws: GraphError.self) { try spec.makeGraph() }
    }

    @Test("an adapter option attaches the adapter; one for another base model is refused naming the option")
    func adapterOption() throws {
        func spec(_ adapter: String) throws -> PipelineSpec {
            try PipelineSpec.parse(yaml: """
                name: adapted
                stages:
                  - {id: a, kind: synthetic-audio}
                  - {id: s, kind: spectrogram, inputs: [a]}
                  - {id: labels, kind: ast, inputs: [s], options: {model: "\(modelFixture("ast-a"))", adapter: "\(adapter)"}}
                """)
        }
        _ = try spec(modelFixture("adapters/ast-lora-v5")).makeGraph()
        #expect {
            try spec(modelFixture("adapters/vit-lora-v5")).makeGraph()
        } throws: { error in
            "\(error)".contains("adapter") && "\(error)".contains("matches no lora module")
        }
    }

    @Test("one jsonl and one WebVTT file take both classifiers' events; the compact audio model runs on matching ast windows")
    func mergedLabelFiles() throws {
        let spec = try PipelineSpec.parse(yaml: """
            name: merged
            stages:
              - {id: v, kind: synthetic-video, options: {frames: 24, width: 40, height: 32}}
              - {id: clips, kind: sample, inputs: [v], options: {mode: clips, clip_length: 8}}
              - {id: actions, kind: vivit, inputs: [clips], options: {model: "\(modelFixture("vivit-a"))", top_k: 2}}
              - {id: a, kind: synthetic-audio, options: {seconds: 1.2}}
              - {id: s, kind: spectrogram, inputs: [a], options: {mode: ast, max_length: 24, mel_bins: 16}}
              - {id: sounds, kind: ast, inputs: [s], options: {model: "\(modelFixture("cct-a"))", top_k: 2}}
              - {id: labels, kind: jsonl, inputs: [actions, sounds], options: {path: labels.jsonl}}
              - {id: cues, kind: vtt, inputs: [actions, sounds], options: {path: labels.vtt}}
            """)
        let directory = temporaryDirectory()
        let graph = try spec.makeGraph(context: BuildContext(outputDirectory: directory.path))
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run(cancel: CancelToken())
        #expect(report.failure == nil, "\(String(describing: report.failure))")
        let lines = try String(contentsOf: directory.appendingPathComponent("labels.jsonl"), encoding: .utf8).split(separator: "\n")
        let stages = Set(lines.compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["stage"] as? String
        })
        #expect(stages == ["actions", "sounds"])
        // 1.2 s of audio in 0.24 s windows: 5 windows; 24 frames in clips of 8: 3 clips; each stream adds a summary.
        let sounds = lines.filter { $0.contains("\"stage\":\"sounds\"") }
        #expect(sounds.count == 5 + 1)
        #expect(sounds.first?.contains("CompactTransformerForAudioClassification") == true)
        let vtt = try String(contentsOf: directory.appendingPathComponent("labels.vtt"), encoding: .utf8)
        let blocks = vtt.components(separatedBy: "\n\n")
        #expect(blocks.first == "WEBVTT")
        let cues = blocks.dropFirst().map { $0.split(separator: "\n").map(String.init) }
        #expect(cues.count == 5 + 3)   // no cue for the summaries
        var previous = ""
        for (i, cue) in cues.enumerated() {
            #expect(cue.count == 3 && cue[0] == "\(i + 1)")
            let times = cue[1].components(separatedBy: " --> ")
            #expect(times.count == 2 && times.allSatisfy { $0.wholeMatch(of: /\d\d:\d\d:\d\d\.\d\d\d/) != nil }, "\(cue[1])")
            #expect(times[0] < times[1] && times[0] >= previous)
            previous = times[0]
            #expect(cue[2].hasPrefix("actions: ") || cue[2].hasPrefix("sounds: "))
            #expect(cue[2].split(separator: ",").count == 2)
        }
        #expect(cues.first?[1] == "00:00:00.000 --> 00:00:00.240" || cues.first?[1].hasPrefix("00:00:00.000 --> ") == true)
    }

    @Test("pipelines/labels.yaml labels the bundled clip's speech with the shipped sound model in labels.jsonl, labels.vtt and the run report; the motion stage runs kino-motion or says it is not shipped")
    func labelsPipeline() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let spec = try PipelineSpec.load(path: root.appendingPathComponent("pipelines/labels.yaml").path)
        let directory = temporaryDirectory()
        let graph = try spec.makeGraph(context: BuildContext(inputPath: root.appendingPathComponent("samples/clip720.mp4").path,
                                                             outputDirectory: directory.path))
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run(cancel: CancelToken())
        #expect(report.failure == nil)
        let lines = try String(contentsOf: directory.appendingPathComponent("labels.jsonl"), encoding: .utf8).split(separator: "\n")
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == lines.count)
        let summaries = events.filter { ($0["payload"] as? [String: Any])?["summary"] as? Bool == true }
        // The motion stage runs when models/kino-motion has been trained and committed, and is
        // off, saying why, until then.
        let motionShipped = FileManager.default.fileExists(atPath: root.appendingPathComponent("models/kino-motion/config.json").path)
        #expect(Set(summaries.compactMap { $0["stage"] as? String }) == (motionShipped ? ["sounds", "motion"] : ["sounds"]))
        let motion = events.filter { $0["stage"] as? String == "motion" }
        if !motionShipped {
            #expect(motion.count == 1 && (motion[0]["payload"] as? [String: Any])?["status"] as? String == "off")
            #expect(((motion[0]["payload"] as? [String: Any])?["reason"] as? String)?.contains("no shipped kino-motion model") == true)
        }
        func top(_ stage: String) -> String? {
            let payload = summaries.first { $0["stage"] as? String == stage }?["payload"] as? [String: Any]
            return (payload?["labels"] as? [[String: Any]])?.first?["label"] as? String
        }
        #expect(top("sounds") == "speech")
        #expect(summaries.first { $0["stage"] as? String == "sounds" }.flatMap { ($0["payload"] as? [String: Any])?["model"] as? String } == "kino-sounds")
        // The run report carries each classifier's main labels for summary.json.
        let sounds = try #require(report.labels.first { $0.stage == "sounds" })
        #expect(sounds.ran && sounds.model == "kino-sounds" && sounds.windows == 3)
        #expect(sounds.labels.first?.label == "speech" && sounds.labels.first!.share >= 0.6)
        let camera = try #require(report.labels.first { $0.stage == "motion" })
        #expect(camera.ran == motionShipped && (camera.model == "kino-motion") == motionShipped)
        let vtt = try String(contentsOf: directory.appendingPathComponent("labels.vtt"), encoding: .utf8)
        #expect(vtt.hasPrefix("WEBVTT\n\n1\n00:00:00.000 --> "))
        #expect(vtt.contains("sounds: speech") && vtt.contains("motion: ") == motionShipped)
    }
}
