import KinoDSP
import KinoMedia

/// The stage kinds built into KinoGraph, each with its options declared once as a
/// ``StageOptionSet`` (property defaults + schema) and a constructor reading those values.
enum BuiltInKinds {
    static let all: [StageKind] = [syntheticVideo, syntheticAudio, sample, audio, spectrogram, flow, flowViz, flowStats,
                                   pairs, join, measure, jsonl, vtt]
        + MediaKinds.all + ModelKinds.all

    struct SyntheticVideoOptions: StageOptionSet {
        var frames = 90, fps = 30, width = 64, height = 64
        var info = true
        static let schema: [OptionField<Self>] = [
            .int("frames", \.frames, minimum: 0, "number of frames"),
            .int("fps", \.fps, minimum: 1, "frame rate"),
            .int("width", \.width, minimum: 1, "width in pixels"),
            .int("height", \.height, minimum: 1, "height in pixels"),
            .bool("info", \.info, "send the frame count ahead of the frames"),
        ]
    }

    static let syntheticVideo = StageKind(
        name: "synthetic-video", summary: "Generated frames (pixel value = index mod 256), for trying pipelines.",
        inputs: "none", output: "video", options: SyntheticVideoOptions.self) { o, _ in
            SyntheticVideoSource(count: o.frames, fps: o.fps, width: o.width, height: o.height, sendsInfo: o.info)
        }

    struct SyntheticAudioOptions: StageOptionSet {
        var seconds = 3.0
        var sampleRate = 16000, channels = 1, chunk = 4000
        var frequency = 440.0
        static let schema: [OptionField<Self>] = [
            .double("seconds", \.seconds, minimum: 0, "duration"),
            .int("sample_rate", \.sampleRate, minimum: 1, "samples per second"),
            .int("channels", \.channels, minimum: 1, "interleaved channels"),
            .int("chunk", \.chunk, minimum: 1, "sample frames per chunk"),
            .double("frequency", \.frequency, minimum: 0, "tone frequency in Hz"),
        ]
    }

    static let syntheticAudio = StageKind(
        name: "synthetic-audio", summary: "A generated sine tone, for trying pipelines.",
        inputs: "none", output: "audio", options: SyntheticAudioOptions.self) { o, _ in
            SyntheticAudioSource(seconds: o.seconds, sampleRate: o.sampleRate, channels: o.channels,
                                 chunkFrames: o.chunk, frequency: o.frequency)
        }

    struct SampleOptions: StageOptionSet {
        enum Mode: String, Sendable, CaseIterable { case fps, everyNth = "every-nth", uniform, clips }
        var mode = Mode.fps
        var fps: Double?
        var n: Int?
        var count: Int?
        var totalFrames: Int?
        var clipLength = 16, frameStride = 1
        var clipStride: Int?
        var end = ClipEndPolicy.repeatLast
        static let schema: [OptionField<Self>] = [
            .choice("mode", \.mode, required: true, "how to sample"),
            .double("fps", \.fps, minimum: 0.000001, "mode fps: samples per second"),
            .int("n", \.n, minimum: 1, "mode every-nth: keep frames 0, n, 2n, …"),
            .int("count", \.count, minimum: 1, "mode uniform: frames to keep"),
            .int("total_frames", \.totalFrames, minimum: 1, "mode uniform: total frames, when the source does not say"),
            .int("clip_length", \.clipLength, minimum: 1, "mode clips: frames per clip (L)"),
            .int("frame_stride", \.frameStride, minimum: 1, "mode clips: frames between clip frames (s)"),
            .int("clip_stride", \.clipStride, minimum: 1, "mode clips: frames between clip starts (S); default: the clip span"),
            .choice("end", \.end, "mode clips: what to do with the short last clip"),
        ]

        /// The sampler the options describe; the option its mode needs must be given.
        func sampleMode(stage: String) throws -> SampleMode {
            func needed<T>(_ value: T?, _ name: String) throws -> T {
                guard let value else { throw GraphError.missingOption(stage: stage, option: name, line: nil) }
                return value
            }
            switch mode {
            case .fps: return .fps(try needed(fps, "fps"))
            case .everyNth: return .everyNth(try needed(n, "n"))
            case .uniform: return .uniform(count: try needed(count, "count"))
            case .clips:
                return .clips(ClipSpec(length: clipLength, frameStride: frameStride, clipStride: clipStride, policy: end))
            }
        }
    }

    static let sample = StageKind(
        name: "sample", summary: "Keeps frames at a rate, every n-th, n uniformly spread, or groups them into clips.",
        inputs: "video", output: "video (clip for mode clips)", options: SampleOptions.self) { o, c in
            SampleStage(mode: try o.sampleMode(stage: c.id), totalFrames: o.totalFrames)
        }

    struct AudioOptions: StageOptionSet {
        var window = 1.0
        var hop: Double?
        var padEnd = true
        static let schema: [OptionField<Self>] = [
            .double("window", \.window, minimum: 0.000001, "window length in seconds"),
            .double("hop", \.hop, minimum: 0.000001, "seconds between window starts; default: the window"),
            .bool("pad_end", \.padEnd, "zero-fill the last window instead of dropping it"),
        ]
    }

    static let audio = StageKind(
        name: "audio", summary: "Re-cuts audio into fixed windows taken every hop, with timestamps.",
        inputs: "audio", output: "audio", options: AudioOptions.self) { o, _ in
            AudioWindowStage(window: o.window, hop: o.hop, padEnd: o.padEnd)
        }

    struct SpectrogramOptions: StageOptionSet {
        var mode = SpectrogramBlock.Kind.ast
        var hop: Double?
        var melBins = 128
        var maxLength = 1024
        static let schema: [OptionField<Self>] = [
            .choice("mode", \.mode, "ast: normalised model input windows (AST's recipe); fbank: raw log-mel rows for display"),
            .double("hop", \.hop, minimum: 0.01,
                    "ast: seconds between window starts; default one window (no overlap). fbank: seconds per block; default 1"),
            .int("mel_bins", \.melBins, minimum: 1, "mel bins (AudioSet AST checkpoints: 128; Kino's kino-sounds: 64)"),
            .int("max_length", \.maxLength, minimum: 1, "ast: frames per window, 10 ms each (AudioSet AST: 1024; kino-sounds: 200)"),
        ]
    }

    static let spectrogram = StageKind(
        name: "spectrogram", summary: "Kaldi filterbank blocks: AST model windows, or raw log-mel strips.",
        inputs: "audio", output: "spectrogram", options: SpectrogramOptions.self) { o, _ in
            let hop = o.hop ?? (o.mode == .ast ? Double(o.maxLength) / 100 : 1)
            var features = ASTFeatureExtractor.Options()
            features.maxLength = o.maxLength
            features.numMelBins = o.melBins
            // 10 ms frame shift: 100 frames per second.
            return try SpectrogramStage(kind: o.mode, stepFrames: max(1, Int((hop * 100).rounded())), melBins: o.melBins,
                                        extractor: o.mode == .ast ? ASTFeatureExtractor(options: features) : nil)
        }

    struct FlowOptions: StageOptionSet {
        var preset = DISOptions.Preset.fast
        var threads = 1
        var finestScale: Int?, patchSize: Int?, patchStride: Int?, iterations: Int?, refinementIterations: Int?
        var alpha: Double?, gamma: Double?, delta: Double?
        var meanNormalization: Bool?, propagation: Bool?
        var temporalPrior = false
        var floDir: OutputPath?
        static let schema: [OptionField<Self>] = [
            .choice("preset", \.preset, "OpenCV's DIS preset the other options start from"),
            .int("threads", \.threads, minimum: 1, maximum: 2, "threads for one flow field (1 or 2)"),
            .int("finest_scale", \.finestScale, minimum: 0, "finest pyramid level computed (0 = full resolution)"),
            .int("patch_size", \.patchSize, minimum: 2, "patch side in pixels"),
            .int("patch_stride", \.patchStride, minimum: 1, "pixels between patches"),
            .int("iterations", \.iterations, minimum: 1, "gradient-descent iterations per patch"),
            .int("refinement_iterations", \.refinementIterations, minimum: 0, "variational refinement iterations (0 = off)"),
            .double("alpha", \.alpha, minimum: 0, "refinement smoothness weight"),
            .double("gamma", \.gamma, minimum: 0, "refinement gradient-constancy weight"),
            .double("delta", \.delta, minimum: 0, "refinement colour-constancy weight"),
            .bool("mean_normalization", \.meanNormalization, "subtract patch means before matching"),
            .bool("propagation", \.propagation, "spatial propagation between patches"),
            .bool("temporal_prior", \.temporalPrior, "start each pair from the previous flow"),
            .outputDirectory("flo_dir", \.floDir, required: false,
                             "also write each field as .flo into this folder (inside the output folder)"),
        ]

        var dis: DISOptions {
            var d = DISOptions.preset(preset)
            d.threads = threads
            if let finestScale { d.finestScale = finestScale }
            if let patchSize { d.patchSize = patchSize }
            if let patchStride { d.patchStride = patchStride }
            if let iterations { d.gradientDescentIterations = iterations }
            if let refinementIterations { d.variationalIterations = refinementIterations }
            if let alpha { d.alpha = Float(alpha) }
            if let gamma { d.gamma = Float(gamma) }
            if let delta { d.delta = Float(delta) }
            if let meanNormalization { d.meanNormalization = meanNormalization }
            if let propagation { d.spatialPropagation = propagation }
            d.temporalPrior = temporalPrior
            return d
        }
    }

    static let flow = StageKind(
        name: "flow", summary: "Dense optical flow (DIS) between consecutive frames, reusing each frame's pyramid.",
        inputs: "video", output: "flow", options: FlowOptions.self) { o, c in
            let floDirectory = try o.floDir.map { try c.output($0, option: "flo_dir") }
            do {
                return try FlowStage(options: o.dis, floDirectory: floDirectory)
            } catch {
                throw GraphError.invalidOption(stage: c.id, option: "flow options", expected: "a valid DIS configuration",
                                               got: "\(error)", line: nil)
            }
        }

    struct FlowVizOptions: StageOptionSet {
        var maxRadius: Double?
        static let schema: [OptionField<Self>] = [
            .double("max_radius", \.maxRadius, minimum: 0.001,
                    "speed in pixels drawn fully saturated (fixed scale, no flicker); default: each field's maximum"),
        ]
    }

    static let flowViz = StageKind(
        name: "flow-viz", summary: "Draws flow with the Middlebury colour wheel, as frames for the video or frames sinks.",
        inputs: "flow", output: "video", options: FlowVizOptions.self) { o, _ in
            FlowVisualStage(maxRadius: o.maxRadius.map(Float.init))
        }

    struct FlowStatsOptions: StageOptionSet {
        var movingThreshold = 0.5
        static let schema: [OptionField<Self>] = [
            .double("moving_threshold", \.movingThreshold, minimum: 0, "pixels of motion that count as moving"),
        ]
    }

    static let flowStats = StageKind(
        name: "flow-stats", summary: "Motion statistics per frame pair as events.",
        inputs: "flow", output: "event", options: FlowStatsOptions.self) { o, _ in
            FlowStatisticsStage(movingThreshold: Float(o.movingThreshold))
        }

    static let pairs = StageKind(
        name: "pairs", summary: "Consecutive frame pairs (t, t+1), for optical flow.",
        inputs: "video", output: "frame-pair", options: NoOptions.self) { _, _ in PairsStage() }

    struct JoinOptions: StageOptionSet {
        var maxGap: Double?
        static let schema: [OptionField<Self>] = [
            .double("max_gap", \.maxGap, minimum: 0, "seconds beyond which a match counts as none"),
        ]
    }

    static let join = StageKind(
        name: "join", summary: "Each packet of the first input with the second input's packet current at its time.",
        inputs: "any, any", output: "joined", options: JoinOptions.self) { o, _ in TimeJoinStage(maxGap: o.maxGap) }

    static let measure = StageKind(
        name: "measure", summary: "One event per packet with simple facts (mean level, RMS, clip range).",
        inputs: "any", output: "event", options: NoOptions.self) { _, _ in MeasureStage() }

    struct JSONLOptions: StageOptionSet {
        var path: OutputPath?
        static let schema: [OptionField<Self>] = [
            .outputFile("path", \.path, "output file, relative to the output folder"),
        ]
    }

    static let jsonl = StageKind(
        name: "jsonl", summary: "Writes events as JSON lines (of one or more event streams); renamed into place when the run completes.",
        inputs: "event, …", output: nil, options: JSONLOptions.self) { o, c in
            JSONLSink(path: try c.output(try c.required(o.path, "path"), option: "path"), ports: c.inputCount)
        }

    static let vtt = StageKind(
        name: "vtt", summary: "Writes timed label events (of one or more classifier streams) as WebVTT cues a player shows over the video; renamed into place when the run completes.",
        inputs: "event, …", output: nil, options: JSONLOptions.self) { o, c in
            WebVTTSink(path: try c.output(try c.required(o.path, "path"), option: "path"), ports: c.inputCount)
        }
}

extension StageContext {
    /// A required option's value (the loader has already checked it was given).
    func required<T>(_ value: T?, _ name: String) throws -> T {
        guard let value else { throw GraphError.missingOption(stage: id, option: name, line: nil) }
        return value
    }
}

/// Stage kinds that read and write media files through KinoMedia.
enum MediaKinds {
    static let all: [StageKind] = [decode, frames, video]

    struct DecodeOptions: StageOptionSet {
        enum Stream: String, Sendable, CaseIterable { case video, audio }
        var path: String?
        var stream = Stream.video
        var width: Int?, height: Int?, shortSide: Int?
        var resize = ResizeMode.stretch
        var layout = PixelLayout.rgb24
        var threads = 0
        var exactCount = true
        var sampleRate: Int?
        var mono = true
        var chunk = 16000
        static let schema: [OptionField<Self>] = [
            .string("path", \.path, "file to read; default: the file the pipeline is run on"),
            .choice("stream", \.stream, "which stream to decode"),
            .int("width", \.width, minimum: 1, "video: output width (with height)"),
            .int("height", \.height, minimum: 1, "video: output height (with width)"),
            .int("short_side", \.shortSide, minimum: 1, "video: scale so the short side is this, keeping aspect"),
            .choice("resize", \.resize, "video: how width × height is reached"),
            .choice("layout", \.layout, "video: pixel layout of the frames"),
            .int("threads", \.threads, minimum: 0, "video: decoder threads, 0 lets FFmpeg choose"),
            .bool("exact_count", \.exactCount, "video: scan packets first so the frame count sent downstream is exact"),
            .int("sample_rate", \.sampleRate, minimum: 1, "audio: output rate; default: the file's"),
            .bool("mono", \.mono, "audio: down-mix to one channel"),
            .int("chunk", \.chunk, minimum: 1, "audio: sample frames per chunk"),
        ]

        /// Options given that belong to the other stream, by name and value.
        var misplaced: [(String, Int)] {
            let given: [(String, Int?)] = stream == .audio
                ? [("width", width), ("height", height), ("short_side", shortSide)]
                : [("sample_rate", sampleRate)]
            return given.compactMap { name, value in value.map { (name, $0) } }
        }
    }

    static let decode = StageKind(
        name: "decode", summary: "Decodes the video or audio stream of the input file.",
        inputs: "none", output: "video (audio for stream: audio)", options: DecodeOptions.self) { o, c in
            guard let path = o.path ?? c.inputPath else {
                throw GraphError.missingOption(stage: c.id, option: "path", line: nil)
            }
            if let (name, value) = o.misplaced.first {
                let other = o.stream == .audio ? "video" : "audio"
                throw GraphError.invalidOption(stage: c.id, option: name, expected: "given only with stream: \(other)",
                                               got: String(value), line: nil)
            }
            if o.stream == .audio {
                return AudioDecodeSource(path: path, sampleRate: o.sampleRate, mono: o.mono, chunkFrames: o.chunk)
            }
            let options = VideoDecodeOptions(width: o.width, height: o.height, shortSide: o.shortSide, resize: o.resize,
                                             layout: o.layout, threads: o.threads)
            return VideoDecodeSource(path: path, options: options, exactCount: o.exactCount)
        }

    struct FramesOptions: StageOptionSet {
        enum Format: String, Sendable, CaseIterable { case png, jpg }
        var dir: OutputPath?
        var format = Format.png
        var quality = 90
        static let schema: [OptionField<Self>] = [
            .outputDirectory("dir", \.dir, "folder for the images, relative to the output folder; no other output may be in it"),
            .choice("format", \.format, "image format"),
            .int("quality", \.quality, minimum: 1, maximum: 100, "JPEG quality"),
        ]
    }

    static let frames = StageKind(
        name: "frames", summary: "Writes each frame as an image named after its index.",
        inputs: "video", output: nil, options: FramesOptions.self) { o, c in
            ImageFramesSink(directory: try c.output(try c.required(o.dir, "dir"), option: "dir"),
                            format: o.format.rawValue, quality: o.quality)
        }

    struct VideoOptions: StageOptionSet {
        enum Timing: String, Sendable, CaseIterable { case source, rate }
        var path: OutputPath?
        var fps: Double?
        var timing = Timing.source
        var crf = 20
        var preset = "medium"
        static let schema: [OptionField<Self>] = [
            .outputFile("path", \.path, "output .mp4 or .gif, relative to the output folder"),
            .double("fps", \.fps, minimum: 0.001, "nominal frame rate; default: the source's, else 30"),
            .choice("timing", \.timing, "source: keep each frame's own time; rate: one frame every 1/fps"),
            .int("crf", \.crf, minimum: 0, maximum: 51, "H.264 quality, 0 (lossless) … 51"),
            .string("preset", \.preset, "x264 preset, ultrafast … veryslow"),
        ]
    }

    static let video = StageKind(
        name: "video", summary: "Encodes frames into an H.264 MP4 or an animated GIF (by extension).",
        inputs: "video", output: nil, options: VideoOptions.self) { o, c in
            var options = VideoEncodeOptions()
            options.crf = o.crf
            options.preset = o.preset
            return VideoFileSink(path: try c.output(try c.required(o.path, "path"), option: "path"), fps: o.fps,
                                 keepTimes: o.timing == .source, options: options)
        }
}
