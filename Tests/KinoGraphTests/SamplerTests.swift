import KinoGraph
import KinoMedia
import Testing

/// Runs 30 fps synthetic frames through a `sample` stage and returns what came out.
private func sample(_ mode: SampleMode, count: Int = 30, totalFrames: Int? = nil,
                    sendsInfo: Bool = true) throws -> (CollectSink, RunReport) {
    let sink = CollectSink()
    let report = try runChain([
        ("src", SyntheticVideoSource(count: count, fps: 30, sendsInfo: sendsInfo)),
        ("sample", SampleStage(mode: mode, totalFrames: totalFrames)),
        ("sink", sink),
    ])
    return (sink, report)
}

@Suite("Frame sampler")
struct SamplerTests {
    @Test("every n-th frame", arguments: [(1, 10), (3, 4), (4, 3), (10, 1), (11, 1)])
    func everyNth(n: Int, expected: Int) throws {
        let (sink, _) = try sample(.everyNth(n), count: 10)
        #expect(sink.frames.map(\.index) == Array(stride(from: 0, to: 10, by: n)))
        #expect(sink.frames.count == expected)
    }

    @Test("frames at a rate are the frames on screen at k / rate",
          arguments: [
              (10.0, [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]),
              (12.0, [0, 2, 5, 7, 10, 12, 15, 17, 20, 22, 25, 27]),
              (7.0, [0, 4, 8, 12, 17, 21, 25]),
              (1.0, [0]),
              (60.0, Array(0..<30)),
          ])
    func fps(rate: Double, expected: [Int]) throws {
        let (sink, _) = try sample(.fps(rate))
        #expect(sink.frames.map(\.index) == expected)
        // Timestamps are the frames' own, not the sample times.
        #expect(sink.frames.map(\.seconds) == expected.map { Double($0) / 30 })
    }

    @Test("uniform indices include both ends and repeat when asked for more than exist",
          arguments: [
              (5, 30, [0, 7, 14, 21, 29]),
              (1, 30, [0]),
              (2, 30, [0, 29]),
              (4, 3, [0, 0, 1, 2]),
          ])
    func uniform(count: Int, total: Int, expected: [Int]) throws {
        #expect(SamplerMath.uniformIndices(count: count, total: total) == expected)
        let (sink, _) = try sample(.uniform(count: count), count: total)
        #expect(sink.frames.map(\.index) == expected)
    }

    @Test("uniform sampling takes the total from an option when the source does not report it")
    func uniformTotalFromOption() throws {
        let (sink, report) = try sample(.uniform(count: 4), count: 10, totalFrames: 10, sendsInfo: false)
        #expect(report.status == .completed)
        #expect(sink.frames.map(\.index) == [0, 3, 6, 9])
    }

    @Test("uniform sampling with an over-stated total repeats the last frame to keep the count")
    func uniformOverstatedTotal() throws {
        let (sink, _) = try sample(.uniform(count: 5), count: 30, totalFrames: 40, sendsInfo: false)
        #expect(sink.frames.map(\.index) == [0, 9, 19, 29, 29])
    }

    @Test("uniform sampling without a total fails with a clear message")
    func uniformWithoutTotal() throws {
        let (_, report) = try sample(.uniform(count: 4), count: 10, sendsInfo: false)
        #expect(report.status == .failed)
        #expect(report.failure?.stage == "sample")
        #expect(report.failure?.seconds == 0)
        #expect(report.failure?.message.contains("total_frames") == true)
    }

    @Test("clips cover the file; the end policy decides the short last clip",
          arguments: [
              // (frames, L, s, S, policy, expected nominal indices, padded per clip)
              (10, 4, 1, 4, ClipEndPolicy.pad, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], [0, 0, 2]),
              (10, 4, 1, 4, .repeatLast, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 9, 9]], [0, 0, 0]),
              (10, 4, 1, 4, .drop, [[0, 1, 2, 3], [4, 5, 6, 7]], [0, 0]),
              (10, 4, 2, 3, .pad, [[0, 2, 4, 6], [3, 5, 7, 9]], [0, 0]),
              (8, 4, 1, 4, .pad, [[0, 1, 2, 3], [4, 5, 6, 7]], [0, 0]),
              (10, 3, 2, 2, .repeatLast, [[0, 2, 4], [2, 4, 6], [4, 6, 8], [6, 8, 8]], [0, 0, 0, 0]),
              (5, 8, 1, 8, .pad, [[0, 1, 2, 3, 4, 5, 6, 7]], [3]),
              (5, 8, 1, 8, .drop, [], []),
          ])
    func clips(frames: Int, length: Int, stride: Int, clipStride: Int, policy: ClipEndPolicy,
               expected: [[Int]], padded: [Int]) throws {
        let spec = ClipSpec(length: length, frameStride: stride, clipStride: clipStride, policy: policy)
        let (sink, _) = try sample(.clips(spec), count: frames)
        let clips = sink.clips
        #expect(clips.map(\.indices) == expected)
        #expect(clips.map(\.paddedCount) == padded)
        for clip in clips {
            // Every frame keeps its own timestamp: index / 30 (padding continues the spacing).
            for frame in clip.frames {
                #expect(abs(frame.seconds - Double(frame.index) / 30) < 1e-9)
            }
            #expect(clip.startSeconds == clip.frames[0].seconds)
            #expect(clip.ptsRange == Int64(clip.frames[0].index)...Int64(clip.frames[clip.frames.count - 1 - clip.paddedCount].index))
            let lastReal = clip.frames[clip.frames.count - 1 - clip.paddedCount]
            #expect(abs(clip.endSeconds - (lastReal.seconds + 1.0 / 30)) < 1e-9)
        }
        // Padding frames are black, real ones carry their index as pixel value.
        for clip in clips where clip.paddedCount > 0 {
            #expect(clip.frames.suffix(clip.paddedCount).allSatisfy { $0.bytes.allSatisfy { $0 == 0 } })
        }
        // The streaming stage agrees with the closed-form index arithmetic.
        let math = SamplerMath.clipIndices(spec, total: frames)
        if policy == .pad || policy == .drop { #expect(math == expected) }
    }

    @Test("the default clip stride tiles clips without overlap or gaps")
    func defaultClipStride() {
        #expect(ClipSpec(length: 16, frameStride: 2).clipStride == 31)
        #expect(ClipSpec(length: 16).span == 16)
    }

    @Test("the sampler forwards stream info downstream")
    func forwardsInfo() throws {
        final class InfoSink: ProcessingStage {
            let inputTypes: [PortType] = [.any]
            let outputType: PortType? = nil
            let seen = Locked<[SourceInfo]>([])
            func receive(info: SourceInfo, input: Int, output: StageOutput) throws { seen.withLock { $0.append(info) } }
            func process(_ packet: Packet, input: Int, output: StageOutput) throws {}
        }
        let info = InfoSink()
        _ = try runChain([("src", SyntheticVideoSource(count: 3)), ("s", SampleStage(mode: .everyNth(2))),
                          ("sink", info)])
        #expect(info.seen.current.map(\.frameCount) == [3])
    }
}
