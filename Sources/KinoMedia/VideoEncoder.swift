import CFFmpeg
import Foundation
import KinoFiles

/// Options for encoding video.
public struct VideoEncodeOptions: Sendable, Hashable {
    /// libx264 constant rate factor (0 lossless … 51 worst); 18–23 is visually good.
    public var crf: Int
    /// libx264 preset (ultrafast … veryslow).
    public var preset: String
    /// Keyframe interval in frames (GOP length).
    public var gop: Int
    /// Maximum consecutive B-frames.
    public var bFrames: Int
    /// Encoder threads; 0 lets the encoder choose.
    public var threads: Int

    public init(crf: Int = 20, preset: String = "medium", gop: Int = 250, bFrames: Int = 3, threads: Int = 0) {
        self.crf = crf
        self.preset = preset
        self.gop = gop
        self.bFrames = bFrames
        self.threads = threads
    }
}

/// Encodes RGB frames to an H.264 MP4 (yuv420p, `+faststart`) or an animated GIF, chosen by extension.
///
/// Writes to a temporary name next to the destination and renames it in `finish()`, so an
/// interrupted encode never leaves a file that looks complete. Not thread-safe.
public final class VideoEncoder: @unchecked Sendable {
    public enum Container: String, Sendable { case mp4, gif }

    public let path: String
    public let width: Int
    public let height: Int
    public let container: Container
    private let temporaryPath: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private let frame = Frame()
    private var quantizer = GIFQuantizer()
    private let packet = Packet()
    private var sws: OpaquePointer?
    private let timeBase: Rational
    private let fps: Rational
    private var nextPTS: Int64 = 0
    private var lastPTS: Int64 = -1
    private var finished = false
    private var headerWritten = false
    public private(set) var framesWritten = 0

    /// Opens `path` for writing.
    /// - Parameters:
    ///   - width, height: Size of the frames that will be appended (odd sizes are padded to even for MP4).
    ///   - fps: Nominal frame rate; frames without an explicit time get `n / fps`.
    /// - Throws: `MediaError` for an unknown extension, a missing encoder or an unwritable path.
    public init(path: String, width: Int, height: Int, fps: Rational, options: VideoEncodeOptions = .init()) throws {
        _ = FF.configureLogging
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard let kind = Container(rawValue: ext == "m4v" || ext == "mov" ? "mp4" : ext) else {
            throw MediaError(.invalidArgument, operation: "creating a video", path: path,
                             message: "unknown video extension '.\(ext)' (use .mp4 or .gif)")
        }
        guard width > 0, height > 0, fps.isValid else {
            throw MediaError(.invalidArgument, operation: "creating a video", path: path, message: "size and frame rate must be positive")
        }
        container = kind
        temporaryPath = AtomicFile.temporarySibling(of: path)
        // GIF counts in centiseconds; for MP4 the 90 kHz MPEG clock is exact for 24, 25, 30, 60 and 30000/1001.
        timeBase = kind == .gif ? Rational(1, 100) : Rational(1, 90_000)
        try open(options: options)
    }

    deinit {
        avcodec_free_context(&codec)
        if let f = format {
            if f.pointee.pb != nil { avio_closep(&f.pointee.pb) }
            avformat_free_context(f)
        }
        sws_freeContext(sws)
        if !finished { unlink(temporaryPath) }
    }

    private func open(options: VideoEncodeOptions) throws {
        let encodedWidth = container == .mp4 ? (width + 1) & ~1 : width
        let encodedHeight = container == .mp4 ? (height + 1) & ~1 : height
        var fmt: UnsafeMutablePointer<AVFormatContext>? = nil
        try FF.check(avformat_alloc_output_context2(&fmt, nil, container.rawValue, temporaryPath),
                     "creating the \(container.rawValue) container", path: path, kind: .io)
        format = fmt
        let codecID = container == .mp4 ? AV_CODEC_ID_H264 : AV_CODEC_ID_GIF
        guard let encoder = container == .mp4 ? avcodec_find_encoder_by_name("libx264") : avcodec_find_encoder(codecID) else {
            throw MediaError(.unsupported, operation: "creating a video", path: path,
                             message: container == .mp4 ? "FFmpeg was built without libx264" : "no GIF encoder")
        }
        guard let ctx = avcodec_alloc_context3(encoder), let st = avformat_new_stream(fmt, nil) else {
            throw MediaError(.codec, operation: "creating a video", path: path, message: "out of memory")
        }
        codec = ctx
        stream = st
        ctx.pointee.width = Int32(encodedWidth)
        ctx.pointee.height = Int32(encodedHeight)
        ctx.pointee.time_base = timeBase.av
        ctx.pointee.framerate = fps.av
        ctx.pointee.pix_fmt = container == .mp4 ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_PAL8
        ctx.pointee.thread_count = Int32(options.threads)
        if container == .mp4 {
            ctx.pointee.gop_size = Int32(options.gop)
            ctx.pointee.max_b_frames = Int32(options.bFrames)
            av_opt_set(ctx.pointee.priv_data, "preset", options.preset, 0)
            av_opt_set(ctx.pointee.priv_data, "crf", String(options.crf), 0)
            // Fixed GOP so keyframe positions are predictable (no scene-cut keyframes).
            av_opt_set(ctx.pointee.priv_data, "x264-params", "scenecut=0:min-keyint=\(options.gop):keyint=\(options.gop)", 0)
        }
        if fmt!.pointee.oformat.pointee.flags & kino_fmt_globalheader() != 0 {
            ctx.pointee.flags |= kino_codec_flag_global_header()
        }
        try FF.check(avcodec_open2(ctx, encoder, nil), "opening the \(container == .mp4 ? "H.264" : "GIF") encoder", path: path)
        try FF.check(avcodec_parameters_from_context(st.pointee.codecpar, ctx), "configuring the stream", path: path)
        st.pointee.time_base = timeBase.av
        st.pointee.avg_frame_rate = fps.av
        try FF.check(avio_open(&fmt!.pointee.pb, temporaryPath, kino_avio_flag_write()), "opening for writing", path: path, kind: .io)
        var dict: OpaquePointer? = nil
        if container == .mp4 { av_dict_set(&dict, "movflags", "+faststart", 0) }
        defer { av_dict_free(&dict) }
        try FF.check(avformat_write_header(fmt, &dict), "writing the header", path: path, kind: .io)
        headerWritten = true

        frame.pointer.pointee.format = ctx.pointee.pix_fmt.rawValue
        frame.pointer.pointee.width = ctx.pointee.width
        frame.pointer.pointee.height = ctx.pointee.height
        try FF.check(av_frame_get_buffer(frame.pointer, 0), "allocating a frame", path: path)
    }

    /// Appends one frame (`rgb24` or `gray8`, the size given at init).
    /// - Parameter seconds: Presentation time; nil for the next slot at the nominal frame rate.
    public func append(_ input: VideoFrame, seconds: Double? = nil) throws {
        guard !finished else {
            throw MediaError(.invalidArgument, operation: "appending a frame", path: path, message: "the video is already finished")
        }
        guard input.width == width, input.height == height, input.layout != .rgbPlanarFloat,
              input.bytes.count == width * height * input.layout.channels else {
            throw MediaError(.invalidArgument, operation: "appending a frame", path: path,
                             message: "expected \(width)×\(height) rgb24/gray8, got \(input.width)×\(input.height) \(input.layout.rawValue)")
        }
        guard let ctx = codec else { return }
        try FF.check(av_frame_make_writable(frame.pointer), "preparing a frame", path: path)
        if container == .mp4 {
            try scale(input, into: ctx)
        } else {
            quantizer.quantize(input, into: frame.pointer)
        }
        var pts = seconds.map { timeBase.ticks(forSeconds: $0) } ?? nextPTS
        if pts <= lastPTS { pts = lastPTS + 1 }
        frame.pointer.pointee.pts = pts
        lastPTS = pts
        nextPTS = timeBase.ticks(forSeconds: Double(framesWritten + 1) * Double(fps.denominator) / Double(fps.numerator))
        if nextPTS <= pts { nextPTS = pts + 1 }
        try send(frame.pointer)
        framesWritten += 1
    }

    private func scale(_ input: VideoFrame, into ctx: UnsafeMutablePointer<AVCodecContext>) throws {
        let srcFormat = input.layout == .gray8 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24
        sws = sws_getCachedContext(sws, Int32(width), Int32(height), srcFormat, ctx.pointee.width, ctx.pointee.height,
                                   AV_PIX_FMT_YUV420P, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nil, nil, nil)
        swsScale(sws, from: input.bytes, width: width, height: height, channels: input.layout.channels, into: frame.pointer)
    }

    private func send(_ f: UnsafeMutablePointer<AVFrame>?) throws {
        guard let ctx = codec, let fmt = format, let st = stream else { return }
        try FF.check(avcodec_send_frame(ctx, f), "encoding a frame", path: path)
        while true {
            let code = avcodec_receive_packet(ctx, packet.pointer)
            if code == FF.eagain || code == FF.eof { return }
            try FF.check(code, "encoding a frame", path: path)
            av_packet_rescale_ts(packet.pointer, ctx.pointee.time_base, st.pointee.time_base)
            packet.pointer.pointee.stream_index = st.pointee.index
            let w = av_interleaved_write_frame(fmt, packet.pointer)
            packet.unref()
            try FF.check(w, "writing a packet", path: path, kind: .io)
        }
    }

    /// Flushes the encoder, writes the trailer and moves the file into place.
    public func finish() throws {
        guard !finished else { return }
        guard framesWritten > 0 else {
            throw MediaError(.invalidArgument, operation: "finishing a video", path: path, message: "no frames were appended")
        }
        try send(nil)
        try FF.check(av_write_trailer(format), "writing the trailer", path: path, kind: .io)
        avio_closep(&format!.pointee.pb)
        try AtomicFile.moveIntoPlace(temporaryPath, path)
        finished = true
    }
}

