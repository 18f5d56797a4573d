import KinoMedia

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
