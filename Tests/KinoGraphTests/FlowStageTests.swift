import Foundation
import Testing
import KinoDSP
import KinoGraph
import KinoMedia
import KinoTestSupport

/// A smooth random texture moving (2, 1) pixels per frame.
final class TranslatingTexture: SourceStage {
    let inputTypes: [PortType] = []
    let outputType: PortType? = .video
    let count: Int, width = 96, height = 64
    init(count: Int) { self.count = count }

    static func value(_ x: Int, _ y: Int) -> UInt8 {
        // A sum of a few sines: smooth enough for gradients, textured enough for patches.
        let fx = Double(x), fy = Double(y)
        let v = 128 + 50 * sin(fx * 0.21 + fy * 0.07) + 40 * sin(fy * 0.17 - fx * 0.05) + 30 * sin((fx + fy) * 0.11)
        return UInt8(max(0, min(255, v)))
    }

    func produce(into output: StageOutput) throws {
        for t in 0..<count {
            var bytes = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let v = Self.value(x - 2 * t, y - t)
                    bytes[3 * (y * width + x)] = v; bytes[3 * (y * width + x) + 1] = v; bytes[3 * (y * width + x) + 2] = v
                }
            }
            output.emit(.frame(VideoFrame(index: t, pts: Int64(t), timeBase: Rational(1, 10), seconds: Double(t) / 10,
                                          width: width, height: height, layout: .rgb24, bytes: bytes)))
        }
    }
}

extension CollectSink {
    var flows: [FlowPacket] {
        packets.compactMap { if case .flow(let f) = $0.payload { return f } else { return nil } }
    }
    var events: [Event] {
        packets.compactMap { if case .event(let e) = $0.payload { return e } else { return nil } }
    }
}

@Suite struct FlowStageTests {
    @Test("flow follows a translating texture; viz and stats follow the flow")
    func translation() throws {
        let dir = TemporaryDirectory("kino-flowstage")
        defer { dir.cleanup() }
        var builder = GraphBuilder(name: "flow-test")
        let flows = CollectSink(.flow), frames = CollectSink(.video), events = CollectSink(.event)
        builder.add("src", TranslatingTexture(count: 5))
        builder.add("flow", try FlowStage(options: .preset(.medium), floDirectory: dir.file("flo")), inputs: ["src"])
        builder.add("viz", FlowVisualStage(maxRadius: 4), inputs: ["flow"])
        builder.add("stats", FlowStatisticsStage(), inputs: ["flow"])
        builder.add("f", flows, inputs: ["flow"])
        builder.add("v", frames, inputs: ["viz"])
        builder.add("e", events, inputs: ["stats"])
        let report = GraphRunner(graph: try builder.build(), pool: ComputePool(slots: 2)).run()
        #expect(report.status == .completed, "\(report.failure?.message ?? "")")
        #expect(flows.flows.map(\.fromIndex) == [0, 1, 2, 3])
        #expect(flows.flows.map(\.toIndex) == [1, 2, 3, 4])
        // I0(x) ≈ I1(x + u): content moves (+2, +1), so u ≈ (2, 1) away from the borders.
        for f in flows.flows {
            var su = 0.0, sv = 0.0, n = 0.0
            for y in 16..<48 { for x in 16..<80 {
                su += Double(f.field.uv[2 * (y * 96 + x)]); sv += Double(f.field.uv[2 * (y * 96 + x) + 1]); n += 1
            } }
            #expect(abs(su / n - 2) < 0.15 && abs(sv / n - 1) < 0.15, "mean flow (\(su / n), \(sv / n))")
        }
        #expect(frames.frames.count == 4 && frames.frames.allSatisfy { $0.width == 96 && $0.layout == .rgb24 })
        #expect(frames.frames.map(\.seconds) == [0, 0.1, 0.2, 0.3])
        let e = try #require(events.events.first)
        if case .number(let m) = e.payload["mean_magnitude"] { #expect(abs(m - 5.0.squareRoot()) < 0.3) } else { Issue.record("no mean") }
        if case .number(let d) = e.payload["dominant_direction_degrees"] { #expect(abs(d - 26.6) < 10) } else { Issue.record("no direction") }
        // The .flo side output round-trips to the field that was emitted.
        let flo = try FlowField(contentsOfFlo: URL(fileURLWithPath: dir.file("flo/flow-000002.flo")))
        #expect(flo == flows.flows[2].field)
    }

    @Test("a change of frame size mid-stream fails with both sizes")
    func sizeChange() throws {
        final class TwoSizes: SourceStage {
            let inputTypes: [PortType] = []
            let outputType: PortType? = .video
            func produce(into output: StageOutput) throws {
                for (i, w) in [64, 64, 80].enumerated() {
                    output.emit(.frame(VideoFrame(index: i, pts: Int64(i), timeBase: Rational(1, 10), seconds: Double(i) / 10,
                                                  width: w, height: 48, layout: .gray8,
                                                  bytes: [UInt8](repeating: UInt8(i * 20), count: w * 48))))
                }
            }
        }
        let report = try runChain([("src", TwoSizes()), ("flow", try FlowStage(options: .preset(.ultrafast))), ("sink", CollectSink())])
        #expect(report.status == .failed)
        #expect(report.failure?.message.contains("64×48 to 80×48") == true)
    }

    @Test("KITTI flow survives a 16-bit PNG exactly")
    func kittiPNG() throws {
        let dir = TemporaryDirectory("kino-kitti")
        defer { dir.cleanup() }
        var field = FlowField(width: 7, height: 5)
        for i in 0..<35 { field.uv[2 * i] = Float(i) * 0.25 - 3; field.uv[2 * i + 1] = -Float(i) / 64 }
        let packed = field.kittiPacked()
        try ImageFile.writePNG16(rgb: packed, width: 7, height: 5, to: dir.file("k.png"))
        let back = try ImageFile.readPNG16(dir.file("k.png"))
        #expect(back.width == 7 && back.height == 5 && back.rgb == packed)
        let (decoded, valid) = try FlowField.kittiUnpacked(back.rgb, width: 7, height: 5)
        #expect(valid.allSatisfy { $0 })
        #expect(decoded == field)
        #expect(throws: MediaError.self) { try ImageFile.readPNG16(Repository.sample("still.png")) }
    }
}
