import KinoDSP
import KinoMedia

/// Option declarations and constructors of the stage kinds built into KinoGraph.
enum BuiltInKinds {
    static let all: [StageKind] = [syntheticVideo, syntheticAudio, sample, audio, spectrogram, flow, flowViz, flowStats,
                                   pairs, join, measure, jsonl]
        + MediaKinds.all + ModelKinds.all

    static let syntheticVideo = StageKind(
        name: "synthetic-video", summary: "Generated frames (pixel value = index mod 256), for trying pipelines.",
        inputs: "none", output: "video",
        options: [
            OptionSpec("frames", .int, default: .int(90), minimum: 0, "number of frames"),
            OptionSpec("fps", .int, default: .int(30), minimum: 1, "frame rate"),
            OptionSpec("width", .int, default: .int(64), minimum: 1, "width in pixels"),
            OptionSpec("height", .int, default: .int(64), minimum: 1, "height in pixels"),
            OptionSpec("info", .bool, default: .bool(true), "send the frame count ahead of the frames"),
        ]) { o, _ in
            SyntheticVideoSource(count: o.int("frames")!, fps: o.int("fps")!, width: o.int("width")!,
                                 height: o.int("height")!, sendsInfo: o.bool("info")!)
        }

    static let syntheticAudio = StageKind(
        name: "synthetic-audio", summary: "A generated sine tone, for trying pipelines.",
        inputs: "none", output: "audio",
        options: [
            OptionSpec("seconds", .double, default: .double(3), minimum: 0, "duration"),
            OptionSpec("sample_rate", .int, default: .int(16000), minimum: 1, "samples per second"),
            OptionSpec("channels", .int, default: .int(1), minimum: 1, "interleaved channels"),
            OptionSpec("chunk", .int, default: .int(4000), minimum: 1, "sample frames per chunk"),
            OptionSpec("frequency", .double, default: .double(440), minimum: 0, "tone frequency in Hz"),
        ]) { o, _ in
            SyntheticAudioSource(seconds: o.double("seconds")!, sampleRate: o.int("sample_rate")!,
                                 channels: o.int("channels")!, chunkFrames: o.int("chunk")!,
                                 frequency: o.double("frequency")!)
        }

    static let sample = StageKind(
        name: "sample", summary: "Keeps frames at a rate, every n-th, n uniformly spread, or groups them into clips.",
        inputs: "video", output: "video (clip for mode clips)",
        options: [
            OptionSpec("mode", .choice(["fps", "every-nth", "uniform", "clips"]), required: true, "how to sample"),
            OptionSpec("fps", .double, minimum: 0.000001, "mode fps: samples per second"),
            OptionSpec("n", .int, minimum: 1, "mode every-nth: keep frames 0, n, 2n, …"),
            OptionSpec("count", .int, minimum: 1, "mode uniform: frames to keep"),
            OptionSpec("total_frames", .int, minimum: 1, "mode uniform: total frames, when the source does not say"),
            OptionSpec("clip_length", .int, default: .int(16), minimum: 1, "mode clips: frames per clip (L)"),
            OptionSpec("frame_stride", .int, default: .int(1), minimum: 1, "mode clips: frames between clip frames (s)"),
            OptionSpec("clip_stride", .int, minimum: 1, "mode clips: frames between clip starts (S); default: the clip span"),
            OptionSpec("end", .choice(ClipEndPolicy.allCases.map(\.rawValue)), default: .string("repeat-last"),
                       "mode clips: what to do with the short last clip"),
        ]) { o, _ in
            let mode: SampleMode
            switch o.string("mode")! {
            case "fps": mode = .fps(try o.require("fps", o.double))
            case "every-nth": mode = .everyNth(try o.require("n", o.int))
            case "uniform": mode = .uniform(count: try o.require("count", o.int))
            default:
                mode = .clips(ClipSpec(length: o.int("clip_length")!, frameStride: o.int("frame_stride")!,
                                       clipStride: o.int("clip_stride"),
                                       policy: ClipEndPolicy(rawValue: o.string("end")!)!))
            }
            return SampleStage(mode: mode, totalFrames: o.int("total_frames"))
        }

    static let audio = StageKind(
        name: "audio", summary: "Re-cuts audio into fixed windows taken every hop, with timestamps.",
        inputs: "audio", output: "audio",
        options: [
            OptionSpec("window", .double, default: .double(1), minimum: 0.000001, "window length in seconds"),
            OptionSpec("hop", .double, minimum: 0.000001, "seconds between window starts; default: the window"),
            OptionSpec("pad_end", .bool, default: .bool(true), "zero-fill the last window instead of dropping it"),
        ]) { o, _ in
            AudioWindowStage(window: o.double("window")!, hop: o.double("hop"), padEnd: o.bool("pad_end")!)
        }

    static let spectrogram = StageKind(
        name: "spectrogram", summary: "Kaldi filterbank blocks: AST model windows, or raw log-mel strips.",
        inputs: "audio", output: "spectrogram",
        options: [
            OptionSpec("mode", .choice(["ast", "fbank"]), default: .string("ast"),
                       "ast: normalised 1024-frame model inputs; fbank: raw log-mel rows for display"),
            OptionSpec("hop", .double, minimum: 0.01,
                       "ast: seconds between window starts; default 10.24 (no overlap). fbank: seconds per block; default 1"),
            OptionSpec("mel_bins", .int, default: .int(128), minimum: 1, "fbank: mel bins (ast always uses 128)"),
        ]) { o, _ in
            let ast = o.string("mode") == "ast"
            let hop = o.double("hop") ?? (ast ? 10.24 : 1)
            // 10 ms frame shift: 100 frames per second.
            return try SpectrogramStage(kind: ast ? .ast : .fbank, stepFrames: max(1, Int((hop * 100).rounded())),
                                        melBins: o.int("mel_bins")!)
        }

    static let flow = StageKind(
        name: "flow", summary: "Dense optical flow (DIS) between consecutive frames, reusing each frame's pyramid.",
        inputs: "video", output: "flow",
        options: [
            OptionSpec("preset", .choice(DISOptions.Preset.allCases.map(\.rawValue)), default: .string("fast"),
                       "OpenCV's DIS preset the other options start from"),
            OptionSpec("threads", .int, default: .int(1), minimum: 1, "threads for one flow field (1 or 2)"),
            OptionSpec("finest_scale", .int, minimum: 0, "finest pyramid level computed (0 = full resolution)"),
            OptionSpec("patch_size", .int, minimum: 2, "patch side in pixels"),
            OptionSpec("patch_stride", .int, minimum: 1, "pixels between patches"),
            OptionSpec("iterations", .int, minimum: 1, "gradient-descent iterations per patch"),
            OptionSpec("refinement_iterations", .int, minimum: 0, "variational refinement iterations (0 = off)"),
            OptionSpec("alpha", .double, minimum: 0, "refinement smoothness weight"),
            OptionSpec("gamma", .double, minimum: 0, "refinement gradient-constancy weight"),
            OptionSpec("delta", .double, minimum: 0, "refinement colour-constancy weight"),
            OptionSpec("mean_normalization", .bool, "subtract patch means before matching"),
            OptionSpec("propagation", .bool, "spatial propagation between patches"),
            OptionSpec("temporal_prior", .bool, default: .bool(false), "start each pair from the previous flow"),
            OptionSpec("flo_dir", .string, "also write each field as .flo into this folder (under the output directory)"),
        ]) { o, context in
            var d = DISOptions.preset(DISOptions.Preset(rawValue: o.string("preset")!)!)
            d.threads = min(2, o.int("threads")!)
            if let v = o.int("finest_scale") { d.finestScale = v }
            if let v = o.int("patch_size") { d.patchSize = v }
            if let v = o.int("patch_stride") { d.patchStride = v }
            if let v = o.int("iterations") { d.gradientDescentIterations = v }
            if let v = o.int("refinement_iterations") { d.variationalIterations = v }
            if let v = o.double("alpha") { d.alpha = Float(v) }
            if let v = o.double("gamma") { d.gamma = Float(v) }
            if let v = o.double("delta") { d.delta = Float(v) }
            if let v = o.bool("mean_normalization") { d.meanNormalization = v }
            if let v = o.bool("propagation") { d.spatialPropagation = v }
            d.temporalPrior = o.bool("temporal_prior")!
            do {
                return try FlowStage(options: d, floDirectory: o.string("flo_dir").map(context.outputPath))
            } catch {
                throw GraphError.invalidOption(stage: o.stage, option: "flow options", expected: "a valid DIS configuration", got: "\(error)", line: nil)
            }
        }

    static let flowViz = StageKind(
        name: "flow-viz", summary: "Draws flow with the Middlebury colour wheel, as frames for the video or frames sinks.",
        inputs: "flow", output: "video",
        options: [
            OptionSpec("max_radius", .double, minimum: 0.001,
                       "speed in pixels drawn fully saturated (fixed scale, no flicker); default: each field's maximum"),
        ]) { o, _ in FlowVisualStage(maxRadius: o.double("max_radius").map(Float.init)) }

    static let flowStats = StageKind(
        name: "flow-stats", summary: "Motion statistics per frame pair as events.",
        inputs: "flow", output: "event",
        options: [
            OptionSpec("moving_threshold", .double, default: .double(0.5), minimum: 0, "pixels of motion that count as moving"),
        ]) { o, _ in FlowStatisticsStage(movingThreshold: Float(o.double("moving_threshold")!)) }

    static let pairs = StageKind(
        name: "pairs", summary: "Consecutive frame pairs (t, t+1), for optical flow.",
        inputs: "video", output: "frame-pair", options: []) { _, _ in PairsStage() }

    static let join = StageKind(
        name: "join", summary: "Each packet of the first input with the second input's packet current at its time.",
        inputs: "any, any", output: "joined",
        options: [
            OptionSpec("max_gap", .double, minimum: 0, "seconds beyond which a match counts as none"),
        ]) { o, _ in TimeJoinStage(maxGap: o.double("max_gap")) }

    static let measure = StageKind(
        name: "measure", summary: "One event per packet with simple facts (mean level, RMS, clip range).",
        inputs: "any", output: "event", options: []) { _, _ in MeasureStage() }

    static let jsonl = StageKind(
        name: "jsonl", summary: "Writes events as JSON lines; renamed into place when the run completes.",
        inputs: "event", output: nil,
        options: [
            OptionSpec("path", .string, required: true, "output file; relative paths go under the output directory"),
        ]) { o, context in JSONLSink(path: context.outputPath(try o.require("path", o.string))) }
}

/// Stage kinds that read and write media files through KinoMedia.
enum MediaKinds {
    static let all: [StageKind] = [decode, frames, video]

    static let decode = StageKind(
        name: "decode", summary: "Decodes the video or audio stream of the input file.",
        inputs: "none", output: "video (audio for stream: audio)",
        options: [
            OptionSpec("path", .string, "file to read; default: the file the pipeline is run on"),
            OptionSpec("stream", .choice(["video", "audio"]), default: .string("video"), "which stream to decode"),
            OptionSpec("width", .int, minimum: 1, "video: output width (with height)"),
            OptionSpec("height", .int, minimum: 1, "video: output height (with width)"),
            OptionSpec("short_side", .int, minimum: 1, "video: scale so the short side is this, keeping aspect"),
            OptionSpec("resize", .choice(ResizeMode.allCases.map(\.rawValue)), default: .string("stretch"),
                       "video: how width × height is reached"),
            OptionSpec("layout", .choice(PixelLayout.allCases.map(\.rawValue)), default: .string("rgb24"),
                       "video: pixel layout of the frames"),
            OptionSpec("threads", .int, default: .int(0), minimum: 0, "video: decoder threads, 0 lets FFmpeg choose"),
            OptionSpec("exact_count", .bool, default: .bool(true),
                       "video: scan packets first so the frame count sent downstream is exact"),
            OptionSpec("sample_rate", .int, minimum: 1, "audio: output rate; default: the file's"),
            OptionSpec("mono", .bool, default: .bool(true), "audio: down-mix to one channel"),
            OptionSpec("chunk", .int, default: .int(16000), minimum: 1, "audio: sample frames per chunk"),
        ]) { o, context in
            guard let path = o.string("path") ?? context.inputPath else {
                throw GraphError.missingOption(stage: o.stage, option: "path", line: nil)
            }
            let audioOnly = ["sample_rate"], videoOnly = ["width", "height", "short_side"]
            let isAudio = o.string("stream") == "audio"
            for name in isAudio ? videoOnly : audioOnly where o.values[name] != nil {
                throw GraphError.invalidOption(stage: o.stage, option: name,
                                               expected: "given only with stream: \(isAudio ? "video" : "audio")",
                                               got: o.values[name]!.description, line: nil)
            }
            if isAudio {
                return AudioDecodeSource(path: path, sampleRate: o.int("sample_rate"), mono: o.bool("mono")!,
                                         chunkFrames: o.int("chunk")!)
            }
            let options = VideoDecodeOptions(width: o.int("width"), height: o.int("height"),
                                             shortSide: o.int("short_side"),
                                             resize: ResizeMode(rawValue: o.string("resize")!)!,
                                             layout: PixelLayout(rawValue: o.string("layout")!)!,
                                             threads: o.int("threads")!)
            return VideoDecodeSource(path: path, options: options, exactCount: o.bool("exact_count")!)
        }

    static let frames = StageKind(
        name: "frames", summary: "Writes each frame as an image named after its index.",
        inputs: "video", output: nil,
        options: [
            OptionSpec("dir", .string, required: true, "output directory; relative paths go under the output directory"),
            OptionSpec("format", .choice(["png", "jpg"]), default: .string("png"), "image format"),
            OptionSpec("quality", .int, default: .int(90), minimum: 1, "JPEG quality, 1–100"),
        ]) { o, context in
            ImageFramesSink(directory: context.outputPath(o.string("dir")!), format: o.string("format")!,
                            quality: min(100, o.int("quality")!))
        }

    static let video = StageKind(
        name: "video", summary: "Encodes frames into an H.264 MP4 or an animated GIF (by extension).",
        inputs: "video", output: nil,
        options: [
            OptionSpec("path", .string, required: true, "output .mp4 or .gif; relative paths go under the output directory"),
            OptionSpec("fps", .double, minimum: 0.001, "nominal frame rate; default: the source's, else 30"),
            OptionSpec("timing", .choice(["source", "rate"]), default: .string("source"),
                       "source: keep each frame's own time; rate: one frame every 1/fps"),
            OptionSpec("crf", .int, default: .int(20), minimum: 0, "H.264 quality, 0 (lossless) … 51"),
            OptionSpec("preset", .string, default: .string("medium"), "x264 preset, ultrafast … veryslow"),
        ]) { o, context in
            var options = VideoEncodeOptions()
            options.crf = min(51, o.int("crf")!)
            options.preset = o.string("preset")!
            return VideoFileSink(path: context.outputPath(o.string("path")!), fps: o.double("fps"),
                                 keepTimes: o.string("timing") == "source", options: options)
        }
}

