import Foundation
import KinoGraph
import KinoTestSupport
import Testing

/// A pipeline writing events from a synthetic source to each of `sinks` (YAML flow mappings
/// of options, one sink per entry; `frames` sinks take `dir`, others `path`).
private func pipeline(_ sinks: [(kind: String, options: String)]) -> String {
    var yaml = """
    name: t
    stages:
      - {id: v, kind: synthetic-video, options: {frames: 3, width: 8, height: 8}}
      - {id: m, kind: measure, inputs: [v]}

    """
    for (i, sink) in sinks.enumerated() {
        let input = sink.kind == "jsonl" ? "m" : "v"
        yaml += "  - {id: s\(i), kind: \(sink.kind), inputs: [\(input)], options: \(sink.options)}\n"
    }
    return yaml
}

private func buildError(_ yaml: String, outputDirectory: String = "/tmp/kino-out/file.incomplete") -> GraphError? {
    pipelineError(for: yaml, context: BuildContext(outputDirectory: outputDirectory))
}

/// Output paths that could leave the folder or overwrite Kino's own files; the sink is on line 5.
private let refusedPaths: [(String, String)] = [
    ("/tmp/escape.jsonl", "is absolute"),
    ("../x.jsonl", "contains '..'"),
    ("a/../../x.jsonl", "contains '..'"),
    ("a/../b.jsonl", "contains '..'"),
    ("summary.json", "'summary.json' is written by Kino itself"),
    ("./summary.json", "'summary.json' is written by Kino itself"),
    ("summary.json/x.jsonl", "'summary.json' is written by Kino itself"),
    ("\"\"", "names no file"),
    ("./", "names no file"),
    (".hidden.jsonl", "hidden name"),
    ("x.jsonl.incomplete", "ends in '.incomplete'"),
]

/// Pairs of outputs that would overwrite or nest in each other; the second sink is on line 6.
private let collisions: [(first: (String, String), second: (String, String))] = [
    (("jsonl", "{path: a.jsonl}"), ("jsonl", "{path: a.jsonl}")),
    (("jsonl", "{path: a.jsonl}"), ("jsonl", "{path: ./a.jsonl}")),
    (("jsonl", "{path: out/a.jsonl}"), ("jsonl", "{path: out//./a.jsonl}")),
    (("frames", "{dir: thumbnails}"), ("jsonl", "{path: thumbnails/x.jsonl}")),
    (("jsonl", "{path: thumbnails/x.jsonl}"), ("frames", "{dir: thumbnails}")),
    (("video", "{path: preview.gif}"), ("frames", "{dir: preview.gif}")),
]

@Suite("Output paths stay inside the file's folder")
struct OutputContractTests {
    @Test("paths are normalised before they are compared")
    func normalised() throws {
        #expect(try OutputPath(checking: "./a//b").description == "a/b")
        #expect(try OutputPath(checking: "a/./b/") == OutputPath(checking: "a/b"))
        #expect(try OutputPath(checking: "a/b").overlaps(OutputPath(checking: "a")))
        #expect(try !OutputPath(checking: "ab").overlaps(OutputPath(checking: "a")))
        #expect(try BuildContext(outputDirectory: "/o/f.incomplete/").resolve(OutputPath(checking: "./x//y.jsonl"))
            == "/o/f.incomplete/x/y.jsonl")
    }

    @Test("graph building refuses paths that leave the folder or name Kino's files", arguments: refusedPaths)
    func refused(path: String, reason: String) throws {
        let error = try #require(buildError(pipeline([("jsonl", "{path: \(path)}")])))
        guard case .invalidOutputPath(let stage, let option, _, _, let line) = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(stage == "s0" && option == "path" && line == 5)
        #expect(error.errorDescription?.contains(reason) == true, "got: \(error.errorDescription ?? "")")
    }

    @Test("frames folders and flow's flo_dir are output paths too")
    func directories() throws {
        #expect(buildError(pipeline([("frames", "{dir: /tmp/stills}")]))?.errorDescription?.contains("is absolute") == true)
        let flo = """
        name: t
        stages:
          - {id: v, kind: synthetic-video, options: {frames: 3}}
          - {id: f, kind: flow, inputs: [v], options: {flo_dir: ../flo}}
        """
        let error = try #require(buildError(flo))
        #expect(error.line == 4 && error.errorDescription?.contains("option 'flo_dir'") == true)
    }

    @Test("no two outputs share a path or nest inside one another", arguments: collisions)
    func collision(first: (String, String), second: (String, String)) throws {
        let error = try #require(buildError(pipeline([first, second])))
        guard case .outputCollision(let stage, _, let other, _, let line) = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(stage == "s1" && other == "s0" && line == 6)
    }

    @Test("kino pipeline check refuses each bad path and collision with its line, before anything runs")
    func checkCommand() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var cases: [(yaml: String, message: String)] = refusedPaths.map {
            (pipeline([("jsonl", "{path: \($0.0)}")]), "line 5: stage 's0' option 'path': output path")
        }
        cases += collisions.map { (pipeline([$0.first, $0.second]), "line 6: stage 's1' writes") }
        for (i, item) in cases.enumerated() {
            let file = directory.file("bad\(i).yaml")
            try item.yaml.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try KinoBinary.run(["pipeline", "check", file])
            #expect(result.status == 1, "\(item.yaml) was accepted: \(result.output)")
            #expect(result.errors.contains(item.message), "got: \(result.errors)")
        }
        // Checking wrote nothing, not even the refused paths' folders.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).allSatisfy { $0.hasSuffix(".yaml") })
    }

    @Test("a graph a command builds from its own arguments may name absolute paths, still without collisions")
    func unconfined() throws {
        let context = BuildContext(outputDirectory: "/tmp/kino-out", confinesOutputs: false)
        let graph = try PipelineSpec.parse(yaml: pipeline([("jsonl", "{path: /tmp/a/../b.jsonl}")])).makeGraph(context: context)
        #expect((graph.node("s0")?.stage as? JSONLSink)?.path == "/tmp/b.jsonl")
        let twice = pipeline([("jsonl", "{path: /tmp/b.jsonl}"), ("jsonl", "{path: /tmp//b.jsonl}")])
        #expect(throws: GraphError.self) { try PipelineSpec.parse(yaml: twice).makeGraph(context: context) }
    }

    @Test("kino process refuses a pipeline writing outside -o before any file is processed")
    func processRefuses() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let yaml = """
        name: escape
        stages:
          - {id: a, kind: decode, options: {stream: audio}}
          - {id: m, kind: measure, inputs: [a]}
          - {id: out, kind: jsonl, inputs: [m], options: {path: ../escape.jsonl}}
        """
        try yaml.write(toFile: directory.file("escape.yaml"), atomically: true, encoding: .utf8)
        let result = try KinoBinary.run(["process", Repository.sample("speech.wav"), "--pipeline", directory.file("escape.yaml"),
                                         "-o", directory.file("out")])
        #expect(result.status == 2, "\(result.errors)")
        #expect(result.errors.contains("line 5: stage 'out' option 'path': output path '../escape.jsonl'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["escape.yaml"])
    }

    @Test("a run of a valid pipeline writes only inside the output folder")
    func runStaysInside() throws {
        let root = TemporaryDirectory()
        defer { root.cleanup() }
        let work = root.file("out/file.incomplete")
        let yaml = """
        name: t
        stages:
          - {id: v, kind: synthetic-video, options: {frames: 6, width: 48, height: 48}}
          - {id: m, kind: measure, inputs: [v]}
          - {id: flow, kind: flow, inputs: [v], options: {flo_dir: ./deep//flo}}
          - {id: stats, kind: flow-stats, inputs: [flow]}
          - {id: stills, kind: frames, inputs: [v], options: {dir: stills}}
          - {id: events, kind: jsonl, inputs: [m], options: {path: events/facts.jsonl}}
          - {id: motion, kind: jsonl, inputs: [stats], options: {path: motion.jsonl}}
        """
        let graph = try PipelineSpec.parse(yaml: yaml).makeGraph(context: BuildContext(outputDirectory: work))
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: 2)).run()
        #expect(report.status == .completed, "\(report.failure.map { "\($0.stage): \($0.message)" } ?? "")")
        let everything = try #require(FileManager.default.subpaths(atPath: root.path))
        let outside = everything.filter { !"\(root.path)/\($0)".hasPrefix(work) && !work.hasPrefix("\(root.path)/\($0)") }
        #expect(outside.isEmpty, "written outside \(work): \(outside)")
        #expect(everything.contains("out/file.incomplete/deep/flo"))
        #expect(everything.contains("out/file.incomplete/events/facts.jsonl"))
        #expect(report.outputs.allSatisfy { $0.path.hasPrefix(work + "/") })
    }
}

@Suite("Typed stage options")
struct TypedOptionTests {
    @Test("an unknown option names the kind and lists its valid keys, with the line")
    func unknownKey() throws {
        let error = try #require(buildError(pipeline([("frames", "{dir: d, qualty: 50}")])))
        #expect(error.line == 5)
        #expect(error.errorDescription?.contains(
            "stage 's0' has unknown option 'qualty' (kind 'frames' takes: dir, format, quality)") == true,
                "got: \(error.errorDescription ?? "")")
    }

    @Test("wrong types and out-of-range values are refused with the line", arguments: [
        ("{dir: d, quality: high}", "option 'quality' must be an integer, got 'high'"),
        ("{dir: d, quality: 101}", "option 'quality' must be an integer in 1…100, got '101'"),
        ("{dir: d, quality: 0}", "option 'quality' must be an integer in 1…100, got '0'"),
        ("{dir: d, format: tiff}", "option 'format' must be one of png, jpg, got 'tiff'"),
        ("{dir: [a, b]}", "option 'dir' must be a folder path relative to the output folder, got 'a list'"),
    ])
    func refused(options: String, message: String) throws {
        let error = try #require(buildError(pipeline([("frames", options)])))
        #expect(error.line == 5)
        #expect(error.errorDescription?.contains(message) == true, "got: \(error.errorDescription ?? "")")
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        try pipeline([("frames", options)]).write(toFile: directory.file("p.yaml"), atomically: true, encoding: .utf8)
        let viaCheck = try KinoBinary.run(["pipeline", "check", directory.file("p.yaml")])
        #expect(viaCheck.status == 1 && viaCheck.errors.contains("line 5: stage 's0' \(message)"), "got: \(viaCheck.errors)")
    }

    @Test("declared defaults are the values the stage is built with")
    func defaults() throws {
        let kind = try #require(StageRegistry.builtIn["synthetic-video"])
        #expect(kind.options.map(\.name) == ["frames", "fps", "width", "height", "info"])
        #expect(kind.options.first?.defaultValue == .int(90))
        let graph = try PipelineSpec.parse(yaml: "name: t\nstages:\n  - {id: v, kind: synthetic-video}\n").makeGraph()
        let source = try #require(graph.node("v")?.stage as? SyntheticVideoSource)
        #expect(source.count == 90)
        let crf = try #require(StageRegistry.builtIn["video"]?.options.first { $0.name == "crf" })
        #expect(crf.defaultValue == .int(20) && crf.minimum == 0 && crf.maximum == 51)
    }

    @Test("every kind declares each option once, with a summary")
    func declarations() {
        for kind in StageRegistry.builtIn.kinds.values {
            let names = kind.options.map(\.name)
            #expect(Set(names).count == names.count, "\(kind.name) declares an option twice")
            #expect(kind.options.allSatisfy { !$0.summary.isEmpty }, "\(kind.name) has an undocumented option")
        }
    }

    @Test("kino pipeline kinds lists every kind and option from the declarations")
    func listing() throws {
        let result = try KinoBinary.run(["pipeline", "kinds", "--options"])
        #expect(result.status == 0, "\(result.errors)")
        for kind in StageRegistry.builtIn.kinds.values {
            #expect(result.output.contains("\(kind.name): \(kind.summary)"))
            for option in kind.options {
                #expect(result.output.contains("  \(option.name) — \(option.expected)"), "\(kind.name).\(option.name)")
            }
        }
        #expect(result.output.contains("  quality — an integer in 1…100; default 90"))
        let unknown = try KinoBinary.run(["pipeline", "kinds", "nope"])
        #expect(unknown.status == 1 && unknown.errors.contains("unknown kind 'nope'"))
    }

    @Test("every bundled pipeline still builds and checks valid")
    func bundled() throws {
        let folder = "\(Repository.root)/pipelines"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 8)
        for name in names {
            let spec = try PipelineSpec.load(path: "\(folder)/\(name)")
            _ = try spec.makeGraph(context: BuildContext(inputPath: "input", outputDirectory: "/tmp/kino-out/x.incomplete"))
            let result = try KinoBinary.run(["pipeline", "check", "\(folder)/\(name)"])
            #expect(result.status == 0 && result.output.contains("is valid"), "\(name): \(result.errors)")
        }
    }
}
