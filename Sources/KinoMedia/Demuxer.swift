import CFFmpeg
import Foundation

/// An open container: owns the `AVFormatContext` and reads packets from it.
///
/// Not thread-safe: use one `Demuxer` from one thread at a time.
final class Demuxer {
    let path: String
    private(set) var context: UnsafeMutablePointer<AVFormatContext>?

    init(path: String) throws {
        _ = FF.configureLogging
        try validateInputPath(path, operation: "opening")
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let code = avformat_open_input(&ctx, path, nil, nil)
        if code < 0 {
            var error = FF.error(code, "opening", path: path, kind: .notMedia)
            if error.kind == .corrupt || code == -EINVAL { error.kind = .notMedia }
            // A file that starts like a known container but does not open is damaged media,
            // not something else: say so (a recording cut off before its index was written is
            // the common case).
            if error.kind == .notMedia, let format = ContainerSignature.sniff(path: path) {
                error.kind = .corrupt
                error.message = format.isISOMedia
                    ? "truncated or incomplete \(format.name) (no index: its moov box is missing, as in a recording that never finished)"
                    : "a damaged or incomplete \(format.name) file (\(error.message))"
            }
            throw error
        }
        context = ctx
        let info = avformat_find_stream_info(ctx, nil)
        if info < 0 {
            throw FF.error(info, "reading stream information", path: path, kind: .notMedia)
        }
        if ctx!.pointee.nb_streams == 0 {
            throw MediaError(.notMedia, operation: "opening", path: path, message: "no audio or video streams")
        }
    }

    deinit {
        avformat_close_input(&context)
    }

    var ctx: UnsafeMutablePointer<AVFormatContext> { context! }

    var streamCount: Int { Int(ctx.pointee.nb_streams) }

    /// The container's duration in seconds, `nil` when it declares none.
    var duration: Double? {
        let d = ctx.pointee.duration
        return d > 0 ? Double(d) / Double(kino_av_time_base()) : nil
    }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        ctx.pointee.streams[index]!
    }

    /// The best stream of a type, as FFmpeg ranks them, or nil.
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = av_find_best_stream(ctx, type, -1, -1, nil, 0)
        return index >= 0 ? Int(index) : nil
    }

    /// Reads the next packet into `packet`. Returns false at end of file.
    func read(into packet: UnsafeMutablePointer<AVPacket>) throws -> Bool {
        let code = av_read_frame(ctx, packet)
        if code == FF.eof { return false }
        if code < 0 {
            // A damaged tail reads as an I/O or data error: treat as the end, after the caller decides.
            throw FF.error(code, "reading packets", path: path, kind: .corrupt)
        }
        return true
    }

    /// Seeks `stream` to the keyframe at or before `timestamp` (stream time base, decode order).
    func seek(stream: Int, to timestamp: Int64) throws {
        let code = avformat_seek_file(ctx, Int32(stream), Int64.min, timestamp, timestamp, 0)
        if code < 0 {
            // Some demuxers only support the legacy call.
            try FF.check(av_seek_frame(ctx, Int32(stream), timestamp, kino_seek_flag_backward()),
                         "seeking to \(timestamp)", path: path, kind: .io)
        }
    }

    /// Opens a decoder for stream `index`, configured from the container.
    /// - Parameters:
    ///   - threads: Decoder threads (0 lets FFmpeg choose); nil keeps FFmpeg's default.
    ///   - what: Words for errors, e.g. "video".
    func openDecoder(stream index: Int, threads: Int?, what: String) throws -> UnsafeMutablePointer<AVCodecContext> {
        let st = stream(index)
        guard let decoder = avcodec_find_decoder(st.pointee.codecpar.pointee.codec_id) else {
            let name = avcodec_get_name(st.pointee.codecpar.pointee.codec_id).map { String(cString: $0) } ?? "?"
            throw MediaError(.unsupported, operation: "opening \(what)", path: path, message: "no decoder for codec \(name)")
        }
        guard let ctx = avcodec_alloc_context3(decoder) else {
            throw MediaError(.codec, operation: "opening \(what)", path: path, message: "out of memory")
        }
        do {
            try FF.check(avcodec_parameters_to_context(ctx, st.pointee.codecpar), "configuring the \(what) decoder", path: path)
            ctx.pointee.pkt_timebase = st.pointee.time_base
            if let threads {
                ctx.pointee.thread_count = Int32(max(0, threads))
                ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
            }
            try FF.check(avcodec_open2(ctx, decoder, nil), "opening the \(what) decoder", path: path)
        } catch {
            var owned: UnsafeMutablePointer<AVCodecContext>? = ctx
            avcodec_free_context(&owned)
            throw error
        }
        return ctx
    }

    /// Rewinds to the start of the file.
    func rewind() throws {
        let code = avformat_seek_file(ctx, -1, Int64.min, 0, 0, 0)
        if code < 0 {
            try FF.check(av_seek_frame(ctx, -1, 0, kino_seek_flag_backward()), "rewinding", path: path, kind: .io)
        }
    }
}

/// An owned `AVPacket`.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() { pointer = av_packet_alloc()! }
    deinit { var p: UnsafeMutablePointer<AVPacket>? = pointer; av_packet_free(&p) }
    func unref() { av_packet_unref(pointer) }
}

/// An owned `AVFrame`.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() { pointer = av_frame_alloc()! }
    deinit { var p: UnsafeMutablePointer<AVFrame>? = pointer; av_frame_free(&p) }
    func unref() { av_frame_unref(pointer) }
}

/// Recognises a container by its first bytes, to tell damaged media from files that are not media.
struct ContainerSignature: Equatable {
    var name: String
    /// MP4, MOV, 3GP, M4A: the formats whose index (`moov`) may come last.
    var isISOMedia: Bool

    static func sniff(path: String) -> ContainerSignature? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 16), data.count >= 4 else { return nil }
        return sniff(Array(data))
    }

    static func sniff(_ b: [UInt8]) -> ContainerSignature? {
        func ascii(_ range: Range<Int>) -> String? {
            guard range.upperBound <= b.count else { return nil }
            return String(bytes: b[range], encoding: .ascii)
        }
        if let box = ascii(4..<8), ["ftyp", "moov", "mdat", "wide", "free", "skip"].contains(box) {
            return ContainerSignature(name: "MP4/MOV", isISOMedia: true)
        }
        if b.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) { return ContainerSignature(name: "Matroska/WebM", isISOMedia: false) }
        if ascii(0..<4) == "RIFF", let kind = ascii(8..<12) {
            if kind == "WAVE" { return ContainerSignature(name: "WAV", isISOMedia: false) }
            if kind == "AVI " { return ContainerSignature(name: "AVI", isISOMedia: false) }
        }
        let known: [(String, [UInt8])] = [
            ("Ogg", Array("OggS".utf8)), ("FLAC", Array("fLaC".utf8)), ("MP3", Array("ID3".utf8)),
            ("AIFF", Array("FORM".utf8)), ("PNG", [0x89, 0x50, 0x4E, 0x47]), ("JPEG", [0xFF, 0xD8, 0xFF]),
            ("GIF", Array("GIF8".utf8)),
        ]
        for (name, prefix) in known where b.starts(with: prefix) {
            return ContainerSignature(name: name, isISOMedia: false)
        }
        return nil
    }
}
