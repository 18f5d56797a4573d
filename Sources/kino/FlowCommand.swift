import ArgumentParser
import Foundation
import KinoDSP
import KinoGraph
import KinoMedia

struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Dense optical flow (DIS) between two images, or through a video.",
        discussion: """
        Two images: kino flow A.png B.png -o OUT.flo [--viz OUT.png] [--kitti OUT-kitti.png] [--backward] [--consistency]
          writes the flow from A to B (A(x) ≈ B(x + flow)) as Middlebury .flo, and prints motion statistics.
        A video:    kino flow VIDEO -o flow.mp4 [--flo-dir DIR] [--stats motion.jsonl] [--size WxH] [--fps F]
          runs decode → (sample) → flow → colour wheel → H.264 (or .gif), at a fixed colour scale.
        """)

    @Argument(help: "Two images, or one video.") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output: .flo for two images; .mp4 or .gif for a video.") var output: String
    @Option(help: "DIS preset: ultrafast, fast, medium.") var preset: String = "fast"
    @Option(help: "Threads per flow field (1 or 2).") var threads: Int = 1
    @Option(help: "Speed (pixels) drawn fully saturated; default: the field's maximum (images), width/40 (video).") var maxRadius: Double?
    @Option(help: "Images: also draw the flow as a PNG.") var viz: String?
    @Option(help: "Images: also write KITTI 16-bit PNG flow.") var kitti: String?
    @Flag(help: "Images: also write the flow from B back to A as OUT.backward.flo.") var backward = false
    @Flag(help: "Images: forward-backward check; writes OUT.occlusion.png (white = occluded) and prints confidence.") var consistency = false
    @Option(help: "Video: also write every field as .flo into this folder.") var floDir: String?
    @Option(help: "Video: motion statistics as JSON lines into this file.") var stats: String?
    @Option(help: "Video: flow size WxH (fit inside, keeping aspect); default 640x360.") var size: String = "640x360"
    @Option(help: "Video: frames per second to take (default: every frame).") var fps: Double?

    func validate() throws {
        guard inputs.count == 1 || inputs.count == 2 else { throw ValidationError("give two images or one video") }
        guard DISOptions.Preset(rawValue: preset) != nil else { throw ValidationError("--preset must be ultrafast, fast or medium") }
        guard (1...2).contains(threads) else { throw ValidationError("--threads must be 1 or 2") }
        _ = try parseSize(size)
    }

    func run() throws {
        do {
            if inputs.count == 2 { try images() } else { try video() }
        } catch let error as ExitCode {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }

    private var disOptions: DISOptions {
        var o = DISOptions.preset(DISOptions.Preset(rawValue: preset)!)
        o.threads = threads
        return o
    }

    private func gray(_ path: String) throws -> (GrayImage, VideoFrame) {
        let frame = try ImageFile.read(path)
        return (try GrayImage(interleaved: frame.bytes, width: frame.width, height: frame.height, order: .rgb), frame)
    }

    private func images() throws {
        let (a, fa) = try gray(inputs[0]), (b, fb) = try gray(inputs[1])
        guard fa.width == fb.width, fa.height == fb.height else {
            throw ValidationError("\(inputs[0]) is \(fa.width)×\(fa.height) but \(inputs[1]) is \(fb.width)×\(fb.height): flow needs equal sizes")
        }
        let session = try FlowSession(width: a.width, height: a.height, options: disOptions)
        var forward = FlowField(width: a.width, height: a.height)
        session.reset()
        try session.push(a, into: &forward)
        try session.push(b, into: &forward)
        try forward.writeFlo(to: URL(fileURLWithPath: output))
        var back: FlowField?
        if backward || consistency {
            var field = FlowField(width: a.width, height: a.height)
            try session.backwardFlow(into: &field)
            back = field
            if backward { try field.writeFlo(to: URL(fileURLWithPath: sibling(".backward.flo"))) }
        }
        if let viz {
            try ImageFile.write(VideoFrame(index: 0, pts: 0, timeBase: Rational(1, 1), seconds: 0, width: a.width, height: a.height,
                                           layout: .rgb24, bytes: FlowColor.render(forward, maxRadius: maxRadius.map(Float.init))), to: viz)
        }
        if let kitti {
            try ImageFile.writePNG16(rgb: forward.kittiPacked(), width: a.width, height: a.height, to: kitti)
        }
        var line = statsLine(MotionStatistics(forward))
        if consistency, let back {
            let check = try FlowConsistency(forward: forward, backward: back)
            let mask = check.occluded.map { $0 ? UInt8(255) : 0 }
            try ImageFile.write(VideoFrame(index: 0, pts: 0, timeBase: Rational(1, 1), seconds: 0, width: a.width, height: a.height,
                                           layout: .gray8, bytes: mask), to: sibling(".occlusion.png"))
            let occluded = Double(check.occluded.filter { $0 }.count) / Double(max(1, check.occluded.count))
            let confidence = check.confidence.reduce(0) { $0 + Double($1) } / Double(max(1, check.confidence.count))
            line += String(format: ", occluded %.3f, mean confidence %.3f", occluded, confidence)
        }
        print("\(inputs[0]) → \(inputs[1]): \(line) → \(output)")
    }

    private func statsLine(_ s: MotionStatistics) -> String {
        let direction = s.dominantDirection.map { String(format: "%.0f°", $0) } ?? "none"
        return String(format: "mean %.2f px, p95 %.2f px, moving %.1f%%, direction %@",
                      s.meanMagnitude, s.p95Magnitude, 100 * s.movingFraction, direction)
    }

    private func sibling(_ suffix: String) -> String {
        let url = URL(fileURLWithPath: output)
        return url.deletingPathExtension().path + suffix
    }

    /// Builds the flow pipeline for these options and runs it on the video.
    private func video() throws {
        let (w, h) = try parseSize(size)
        let outURL = URL(fileURLWithPath: output)
        let ext = outURL.pathExtension.lowercased()
        guard ext == "mp4" || ext == "gif" else { throw ValidationError("a video's flow is written as .mp4 or .gif (got '\(output)')") }
        let radius = maxRadius ?? Double(w) / 40
        var yaml = """
        name: flow
        stages:
          - {id: video, kind: decode, options: {width: \(w), height: \(h), resize: fit}}

        """
        var upstream = "video"
        if let fps {
            yaml += "  - {id: sample, kind: sample, inputs: [video], options: {mode: fps, fps: \(fps)}}\n"
            upstream = "sample"
        }
        // The outputs a user names on the command line may be anywhere: this graph, built from the
        // command's own arguments and never from a pipeline file, is not confined to one folder.
        let floOption = floDir.map { ", flo_dir: \"\(absolute($0))\"" } ?? ""
        yaml += """
          - {id: flow, kind: flow, inputs: [\(upstream)], options: {preset: \(preset), threads: \(threads)\(floOption)}}
          - {id: colours, kind: flow-viz, inputs: [flow], options: {max_radius: \(radius)}}
          - {id: out, kind: video, inputs: [colours], options: {path: "\(absolute(output))"}}

        """
        if let stats {
            yaml += """
              - {id: stats, kind: flow-stats, inputs: [flow]}
              - {id: motion, kind: jsonl, inputs: [stats], options: {path: "\(absolute(stats))"}}

            """
        }
        let spec = try PipelineSpec.parse(yaml: yaml)
        let graph = try spec.makeGraph(context: BuildContext(inputPath: inputs[0], outputDirectory: outURL.deletingLastPathComponent().path,
                                                             confinesOutputs: false))
        let trap = SignalTrap()
        let report = GraphRunner(graph: graph).run(cancel: trap.token)
        guard report.status == .completed else {
            if let failure = report.failure {
                printError(ValidationError("\(inputs[0]): stage \(failure.stage) failed at \(failure.seconds.map { String(format: "%.3f s", $0) } ?? "start"): \(failure.message)"))
            } else {
                printError(ValidationError("\(inputs[0]): \(report.status.rawValue); outputs left marked incomplete"))
            }
            throw ExitCode(trap.exitStatus ?? 1)
        }
        // The stage's packet count includes the stream-info packet it passes on.
        let pairs = max(0, (report.stats("flow")?.packetsOut ?? 0) - 1)
        print(String(format: "%@: %d flow fields in %.1f s → %@", inputs[0], pairs, report.wallSeconds, output))
        let damaged = report.streams.filter(\.health.isDamaged)
        if !damaged.isEmpty {
            for stream in damaged {
                printWarning("\(inputs[0]): \(stream.stream) is damaged (\(stream.health.description))")
            }
            printWarning("\(inputs[0]): the flow covers what could be decoded; exit status 3")
            throw ExitCode(3)
        }
    }

    private func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
