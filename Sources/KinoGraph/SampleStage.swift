import KinoMedia

/// What to do with a clip that runs past the last frame.
///
/// Named after torchcodec's sampler policies; `pad` and `drop` are additions for models that
/// want to see the tail of a file without duplicated frames, or never see a short clip.
public enum ClipEndPolicy: String, Sendable, Codable, CaseIterable {
    /// Fill with zero-valued frames whose indices and times continue the clip's spacing.
    case pad
    /// Fill with copies of the last real frame (its own index and time), as torchcodec's `repeat_last`.
    case repeatLast = "repeat-last"
    /// Emit only clips whose every frame exists.
    case drop
}

/// How clips are laid over a stream.
///
/// Clip k starts at frame `k × clipStride` and takes `length` frames `frameStride` apart,
/// so it spans `frameStride × (length − 1) + 1` frames. Clips continue until one reaches the
/// last frame, so the whole file is covered; at most one clip is short, and `policy` decides
/// what happens to it.
public struct ClipSpec: Sendable, Equatable {
    /// Frames per clip (L).
    public var length: Int
    /// Distance in frames between frames of one clip (s).
    public var frameStride: Int
    /// Distance in frames between the starts of consecutive clips (S).
    public var clipStride: Int
    public var policy: ClipEndPolicy

    public init(length: Int, frameStride: Int = 1, clipStride: Int? = nil, policy: ClipEndPolicy = .repeatLast) {
        precondition(length >= 1 && frameStride >= 1, "clip length and frame stride must be positive")
        self.length = length
        self.frameStride = frameStride
        self.clipStride = max(1, clipStride ?? (frameStride * (length - 1) + 1))
        self.policy = policy
    }

    /// Frames between a clip's first and last frame, inclusive.
    public var span: Int { frameStride * (length - 1) + 1 }
}

/// Which frames the `sample` stage keeps.
public enum SampleMode: Sendable, Equatable {
    /// The frame on screen at each time `t0 + k / rate` (t0 = first frame's time); each source
    /// frame is emitted at most once, so a rate above the source's passes every frame.
    case fps(Double)
    /// Frames 0, n, 2n, … by position in the stream.
    case everyNth(Int)
    /// `count` indices spread evenly from the first to the last frame, both included
    /// (`⌊k·(N−1)/(count−1)⌋`, as torchcodec's regular sampler); needs the total N.
    /// Asking for more frames than exist repeats frames, as torchcodec does.
    case uniform(count: Int)
    /// Fixed-length clips; the stage outputs ``PortType/clip``.
    case clips(ClipSpec)
}

/// Index arithmetic of the samplers, free of streaming concerns so it can be tested alone.
public enum SamplerMath {
    /// The indices ``SampleMode/uniform(count:)`` selects from `total` frames, in order.
    public static func uniformIndices(count: Int, total: Int) -> [Int] {
        FrameSelection.evenlySpaced(count: count, total: total)
    }

    /// The nominal frame indices of every clip a file of `total` frames yields under `spec`
    /// (before the end policy fills in missing frames; indices ≥ `total` are the missing ones).
    public static func clipIndices(_ spec: ClipSpec, total: Int) -> [[Int]] {
        var clips: [[Int]] = []
        var start = 0
        while start < total {
            let indices = (0..<spec.length).map { start + $0 * spec.frameStride }
            let last = indices.last!
            if last < total || spec.policy != .drop { clips.append(indices) }
            if last >= total - 1 { break }
            start += spec.clipStride
        }
        return clips
    }
}

/// Keeps some frames of a stream, or groups them into clips; every frame keeps its timestamp.
///
/// Modes follow torchcodec's samplers (see ``SampleMode``) but work on a stream: frames are
/// seen once, in order, and only those a pending clip still needs are held in memory.
/// Uniform sampling needs the total frame count: from `totalFrames`, else from the source's
/// ``SourceInfo`` (`frameCount`, or `duration × frameRate` rounded).
public final class SampleStage: ProcessingStage {
    public let mode: SampleMode
    /// Total frames, overriding the source's info (for sources that do not know it).
    public let totalFrames: Int?
    private let state = Locked(State())

    private struct State {
        var position = 0                 // arrival index of the next frame
        var info: SourceInfo?
        var previous: VideoFrame?        // fps: the frame on screen until the next one
        var nextSample = 0               // fps: k of the next sample time
        var firstTime: Double?
        var lastTime: Double?
        var lastInterval = 0.0           // spacing of the last two frames
        var uniform: [Int: Int]?         // uniform: index -> times to emit
        var uniformEmitted = 0
        var open: [(start: Int, frames: [VideoFrame])] = []   // clips still filling
        var nextClipStart = 0
        var lastCompleteEnd: Int?
    }

    /// A planning copy works on pixel-free frames (see ``keptIndices(of:info:)``).
    private let planning: Bool

    public init(mode: SampleMode, totalFrames: Int? = nil) {
        self.mode = mode
        self.totalFrames = totalFrames
        planning = false
    }

    private init(planningFor stage: SampleStage) {
        mode = stage.mode
        totalFrames = stage.totalFrames
        planning = true
    }

    public var inputTypes: [PortType] { [.video] }
    public var outputType: PortType? {
        if case .clips = mode { return .clip }
        return .video
    }

    /// The indices of the frames this stage would pass on (alone or inside clips) for a stream
    /// whose frames have these indices and times: a dry run of a fresh copy on pixel-free frames.
    /// A decoder feeding only samplers uses it to skip converting the frames nobody keeps.
    func keptIndices(of frames: [VideoFrame], info: SourceInfo) throws -> Set<Int> {
        let copy = SampleStage(planningFor: self)
        let output = StageOutput(stageID: "plan", declared: nil, port: nil, token: CancelToken(),
                                 files: Locked([]), buffering: true)
        try copy.receive(info: info, input: 0, output: output)
        var kept = Set<Int>()
        func collect() {
            for packet in output.drain() {
                switch packet.payload {
                case .videoFrame(let frame): kept.insert(frame.index)
                case .clip(let clip): for frame in clip.frames { kept.insert(frame.index) }
                default: break
                }
            }
        }
        for frame in frames {
            try copy.process(.frame(frame), input: 0, output: output)
            collect()
        }
        try copy.finish(output: output)
        collect()
        return kept
    }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {
        state.withLock { $0.info = info }
        output.emit(.info(info))
    }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .videoFrame(let frame) = packet.payload else { return }
        let emitted = try state.withLock { s -> [Packet] in
            defer { s.position += 1 }
            if let last = s.lastTime { s.lastInterval = frame.seconds - last }
            s.lastTime = frame.seconds
            switch mode {
            case .everyNth(let n):
                return s.position % n == 0 ? [.frame(frame)] : []
            case .fps(let rate):
                return fps(rate, frame, &s)
            case .uniform(let count):
                return try uniform(count, frame, &s, stage: output.stageID)
            case .clips(let spec):
                return clips(spec, frame, &s)
            }
        }
        if !planning { try Self.checkPixels(emitted, stage: output.stageID) }
        emitted.forEach(output.emit)
    }

    /// A frame the decoder left unconverted (its plan said no sampler keeps it) must never leave.
    private static func checkPixels(_ packets: [Packet], stage: String) throws {
        for packet in packets {
            let frames: [VideoFrame]
            switch packet.payload {
            case .videoFrame(let frame): frames = [frame]
            case .clip(let clip): frames = clip.frames
            default: frames = []
            }
            if let bad = frames.first(where: \.isUnconverted) {
                throw GraphError.invalidInput(stage: stage, message:
                    "internal error: frame \(bad.index) was skipped by the decoder's sampling plan but is needed")
            }
        }
    }

    public func finish(output: StageOutput) throws {
        let emitted = state.withLock { s -> [Packet] in
            switch mode {
            case .everyNth: return []
            case .fps(let rate): return fpsTail(rate, &s)
            case .uniform(let count):
                // A source that over-stated its length: repeat the last frame to keep the count.
                guard let last = s.previous else { return [] }
                return Array(repeating: .frame(last), count: max(0, count - s.uniformEmitted))
            case .clips(let spec): return clipsTail(spec, &s)
            }
        }
        if !planning { try Self.checkPixels(emitted, stage: output.stageID) }
        emitted.forEach(output.emit)
    }

    // MARK: fps

    private static let epsilon = 1e-9

    private func fps(_ rate: Double, _ frame: VideoFrame, _ s: inout State) -> [Packet] {
        defer { s.previous = frame }
        guard let first = s.firstTime, let prev = s.previous else {
            s.firstTime = frame.seconds
            return []
        }
        // `prev` is on screen over [prev.seconds, frame.seconds): it answers sample times in there.
        var hit = false
        while first + Double(s.nextSample) / rate < frame.seconds - Self.epsilon {
            if first + Double(s.nextSample) / rate >= prev.seconds - Self.epsilon { hit = true }
            s.nextSample += 1
        }
        return hit ? [.frame(prev)] : []
    }

    private func fpsTail(_ rate: Double, _ s: inout State) -> [Packet] {
        guard let first = s.firstTime, let last = s.previous else { return [] }
        let end = last.seconds + (last.duration > 0 ? last.duration : s.lastInterval)
        let t = first + Double(s.nextSample) / rate
        let shown = end > last.seconds ? t < end - Self.epsilon : t <= last.seconds + Self.epsilon
        return shown ? [.frame(last)] : []
    }

    // MARK: uniform

    private func uniform(_ count: Int, _ frame: VideoFrame, _ s: inout State, stage: String) throws -> [Packet] {
        if s.uniform == nil {
            guard let total = totalFrames ?? s.info.flatMap(Self.total) else {
                throw GraphError.invalidInput(stage: stage, message:
                    "uniform sampling needs the total frame count: set option 'total_frames' or use a source that reports it")
            }
            s.uniform = SamplerMath.uniformIndices(count: count, total: total).reduce(into: [:]) { $0[$1, default: 0] += 1 }
        }
        s.previous = frame
        let times = s.uniform?[s.position] ?? 0
        s.uniformEmitted += times
        return Array(repeating: .frame(frame), count: times)
    }

    private static func total(_ info: SourceInfo) -> Int? {
        if let count = info.frameCount { return count }
        if let duration = info.duration, let rate = info.frameRate { return Int((duration * rate).rounded()) }
        return nil
    }

    // MARK: clips

    private func clips(_ spec: ClipSpec, _ frame: VideoFrame, _ s: inout State) -> [Packet] {
        s.previous = frame
        let i = s.position
        if i == s.nextClipStart {
            s.open.append((i, []))
            s.nextClipStart += spec.clipStride
        }
        var done: [Packet] = []
        for k in s.open.indices {
            let offset = i - s.open[k].start
            if offset % spec.frameStride == 0 && offset / spec.frameStride < spec.length {
                s.open[k].frames.append(frame)
            }
        }
        while let first = s.open.first, first.frames.count == spec.length {
            s.open.removeFirst()
            s.lastCompleteEnd = first.start + spec.span - 1
            done.append(Self.clipPacket(first.frames, padded: 0, interval: s.lastInterval))
        }
        return done
    }

    private func clipsTail(_ spec: ClipSpec, _ s: inout State) -> [Packet] {
        defer { s.open = [] }
        let total = s.position
        guard spec.policy != .drop, let partial = s.open.first, let last = partial.frames.last,
              s.lastCompleteEnd.map({ $0 < total - 1 }) ?? true else { return [] }
        var frames = partial.frames
        let real = frames.count
        let lastNominal = partial.start + (real - 1) * spec.frameStride
        for j in real..<spec.length {
            let nominal = partial.start + j * spec.frameStride
            switch spec.policy {
            case .repeatLast: frames.append(last)
            case .pad, .drop: frames.append(Self.blank(like: last, steps: nominal - lastNominal, interval: s.lastInterval))
            }
        }
        let padded = spec.policy == .pad ? spec.length - real : 0
        return [Self.clipPacket(frames, padded: padded, interval: s.lastInterval, realCount: real)]
    }

    /// A zero frame `steps` frames after `frame`, continuing its index and time.
    private static func blank(like frame: VideoFrame, steps: Int, interval: Double) -> VideoFrame {
        var blank = frame
        blank.index = frame.index + steps
        blank.seconds = frame.seconds + Double(steps) * (frame.duration > 0 ? frame.duration : interval)
        blank.pts = frame.pts + frame.timeBase.ticks(forSeconds: blank.seconds - frame.seconds)
        blank.bytes = [UInt8](repeating: 0, count: frame.bytes.count)
        blank.floats = [Float](repeating: 0, count: frame.floats.count)
        return blank
    }

    private static func clipPacket(_ frames: [VideoFrame], padded: Int, interval: Double,
                                   realCount: Int? = nil) -> Packet {
        let lastReal = frames[(realCount ?? frames.count) - 1]
        let end = lastReal.seconds + (lastReal.duration > 0 ? lastReal.duration : interval)
        let clip = Clip(frames: frames, startSeconds: frames[0].seconds, endSeconds: end, paddedCount: padded)
        return Packet(seconds: clip.startSeconds, payload: .clip(clip))
    }
}

