import Foundation
import KinoGraph
import KinoMedia
import Testing

@Suite("Built-in stages")
struct StageTests {
    @Test("audio windows: starts every hop, exact samples, end padding or dropping",
          arguments: [
              // (window s, hop s, pad, expected window starts in frames, real frames in the last window)
              (0.25, 0.125, true, Array(stride(from: 0, through: 12000, by: 2000)), 4000),
              (0.3, 0.25, true, [0, 4000, 8000, 12000], 4000),
              (0.3, 0.25, false, [0, 4000, 8000], 4800),
              (0.2, 0.3, true, [0, 4800, 9600, 14400], 1600),
          ])
    func audioWindows(window: Double, hop: Double, pad: Bool, starts: [Int], lastReal: Int) throws {
        let source = SyntheticAudioSource(seconds: 1, sampleRate: 16000, chunkFrames: 3000)
        let sink = CollectSink(.audio)
        let report = try runChain([("tone", source), ("win", AudioWindowStage(window: window, hop: hop, padEnd: pad)),
                                   ("sink", sink)])
        #expect(report.status == .completed)
        let length = Int((window * 16000).rounded())
        let chunks = sink.chunks
        #expect(chunks.map { Int(($0.seconds * 16000).rounded()) } == starts)
        #expect(chunks.allSatisfy { $0.samples.count == length && $0.sampleRate == 16000 && $0.channels == 1 })
        for (chunk, start) in zip(chunks, starts) {
            let real = min(length, 16000 - start)
            #expect(chunk.samples.prefix(real) == ArraySlice((0..<real).map { source.sample(start + $0) }))
            #expect(chunk.samples.dropFirst(real).allSatisfy { $0 == 0 })
        }
        #expect(min(length, 16000 - starts.last!) == lastReal)
    }

    @Test("audio windows refuse a change of sample rate mid-stream")
    func audioFormatChange() throws {
        final class TwoRates: SourceStage {
            let inputTypes: [PortType] = []
            let outputType: PortType? = .audio
            func produce(into output: StageOutput) throws {
                output.emit(.audio(AudioChunk(seconds: 0, sampleRate: 16000, channels: 1, samples: [0, 0])))
                output.emit(.audio(AudioChunk(seconds: 0.5, sampleRate: 8000, channels: 1, samples: [0, 0])))
            }
        }
        let report = try runChain([("src", TwoRates()), ("win", AudioWindowStage(window: 1)), ("sink", CollectSink())])
        #expect(report.status == .failed)
        #expect(report.failure?.stage == "win")
        #expect(report.failure?.seconds == 0.5)
        #expect(report.failure?.message.contains("16000 Hz") == true)
    }

    @Test("pairs are consecutive frames at the first frame's time")
    func pairs() throws {
        let sink = CollectSink(.framePair)
        _ = try runChain([("v", SyntheticVideoSource(count: 5)), ("p", PairsStage()), ("sink", sink)])
        let pairs = sink.packets.compactMap { p -> (Int, Int, Double)? in
            guard case .framePair(let a, let b) = p.payload else { return nil }
            return (a.index, b.index, p.seconds)
        }
        #expect(pairs.map(\.0) == [0, 1, 2, 3])
        #expect(pairs.map(\.1) == [1, 2, 3, 4])
        #expect(pairs.map(\.2) == [0, 1, 2, 3].map { Double($0) / 30 })
    }

    @Test("join by time matches each frame with the audio chunk playing under it", arguments: [nil, 0.05])
    func join(maxGap: Double?) throws {
        var builder = GraphBuilder()
        builder.add("v", SyntheticVideoSource(count: 12, fps: 30))
        builder.add("a", SyntheticAudioSource(seconds: 0.2, sampleRate: 16000, chunkFrames: 1600))   // 0.1 s chunks
        builder.add("j", TimeJoinStage(first: .video, second: .audio, maxGap: maxGap), inputs: ["v", "a"])
        let sink = CollectSink(.joined)
        builder.add("sink", sink, inputs: ["j"])
        let report = GraphRunner(graph: try builder.build()).run()
        #expect(report.status == .completed)
        let matches = sink.packets.compactMap { p -> (Int, Double?)? in
            guard case .joined(let first, let second) = p.payload, case .videoFrame(let f) = first.payload else {
                return nil
            }
            return (f.index, second?.seconds)
        }
        #expect(matches.map(\.0) == Array(0..<12))
        // Frames 0-2 → chunk at 0.0, 3-5 → 0.1, then the last chunk (0.1) holds, unless too old.
        let expected: [Double?] = (0..<12).map { i in
            let chunk = i < 3 ? 0.0 : 0.1
            if let maxGap, Double(i) / 30 - chunk > maxGap { return nil }
            return chunk
        }
        #expect(matches.map(\.1) == expected)
    }

    @Test("jsonl writes sorted-key lines under a temporary name and renames on success")
    func jsonlCompleted() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("out/events.jsonl").path
        let report = try runChain([("v", SyntheticVideoSource(count: 3)), ("m", MeasureStage()),
                                   ("out", JSONLSink(path: path))])
        #expect(report.outputs == [OutputFile(stage: "out", path: path, complete: true)])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1] == #"{"end":0.06666666666666667,"payload":{"index":1,"mean":1,"type":"frame"},"stage":"m","start":0.03333333333333333}"#)
        #expect(!FileManager.default.fileExists(atPath: JSONLSink(path: path).temporaryPath))
    }

    @Test("jsonl keeps what it has as .incomplete when the run is cancelled")
    func jsonlCancelled() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("events.jsonl").path
        let token = CancelToken()
        final class CancelAfter: ProcessingStage {
            let inputTypes: [PortType] = [.video]
            let outputType: PortType? = .video
            let token: CancelToken
            init(_ token: CancelToken) { self.token = token }
            func process(_ packet: Packet, input: Int, output: StageOutput) throws {
                if case .videoFrame(let f) = packet.payload, f.index == 4 { token.cancel() }
                output.emit(packet)
            }
        }
        let report = try runChain([("v", ProbeSource(count: 1_000_000)), ("c", CancelAfter(token)),
                                   ("m", MeasureStage()), ("out", JSONLSink(path: path))], cancel: token)
        #expect(report.status == .cancelled)
        #expect(report.outputs == [OutputFile(stage: "out", path: path + ".incomplete", complete: false)])
        #expect(!FileManager.default.fileExists(atPath: path))
        let lines = try String(contentsOfFile: path + ".incomplete", encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 5)
    }

    @Test("a join of independent sources merges strictly by time, so the fast source waits for the slow one")
    func independentSourcesStayInStep() throws {
        final class ProbeAudio: SourceStage {
            let inputTypes: [PortType] = []
            let outputType: PortType? = .audio
            let emitted = Locked(0)
            func produce(into output: StageOutput) throws {
                for k in 0..<40 {      // 0.1 s chunks over 4 s, as fast as they are taken
                    output.emit(.audio(AudioChunk(seconds: Double(k) / 10, sampleRate: 100, channels: 1,
                                                  samples: [Float](repeating: 0, count: 10))))
                    emitted.withLock { $0 += 1 }
                }
            }
        }
        final class SlowVideo: SourceStage {
            let inputTypes: [PortType] = []
            let outputType: PortType? = .video
            let video = SyntheticVideoSource(count: 60, fps: 30)
            let onFrame: @Sendable (Double) -> Void
            init(_ onFrame: @escaping @Sendable (Double) -> Void) { self.onFrame = onFrame }
            func produce(into output: StageOutput) throws {
                for i in 0..<60 {
                    Thread.sleep(forTimeInterval: 0.002)      // a decoder slower than the audio one
                    onFrame(Double(i) / 30)
                    output.emit(.frame(video.frame(i)))
                }
            }
        }
        let audio = ProbeAudio()
        let lead = Locked(0)
        let video = SlowVideo { seconds in
            // Audio chunks finished before video frame `seconds` even exists: at most the one
            // that decides the previous frame's match, the join's queue (2) and one in hand.
            lead.withLock { $0 = max($0, audio.emitted.current - Int(seconds * 10)) }
        }
        let sink = CollectSink(.joined)
        var builder = GraphBuilder()
        let small = NodeOptions(capacity: EdgeCapacity(packets: 2))
        builder.add("v", video)
        builder.add("a", audio)
        builder.add("j", TimeJoinStage(first: .video, second: .audio), inputs: ["v", "a"], options: small)
        builder.add("sink", sink, inputs: ["j"], options: small)
        let report = GraphRunner(graph: try builder.build()).run()
        #expect(report.status == .completed)
        #expect(sink.packets.count == 60)
        #expect(lead.current <= 5, "audio ran \(lead.current) chunks ahead")   // free-running: ~38
    }
}
