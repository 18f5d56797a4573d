import CFFmpeg
import CSndFile

/// Audio read by FFmpeg: demux the best audio stream and decode it.
final class FFmpegAudioSource: AudioSource {
    let path: String
    let demuxer: Demuxer
    let streamIndex: Int
    let codec: UnsafeMutablePointer<AVCodecContext>
    let timeBase: Rational
    private let packet = Packet()
    private let frame = Frame()
    private var draining = false
    private(set) var health: DecodeHealth

    var sampleRate: Int { Int(codec.pointee.sample_rate) }
    var channels: Int { Int(codec.pointee.ch_layout.nb_channels) }
    var layout: AVChannelLayout { codec.pointee.ch_layout }
    var format: AVSampleFormat { codec.pointee.sample_fmt }

    init(path: String) throws {
        self.path = path
        demuxer = try Demuxer(path: path)
        guard let index = demuxer.bestStream(AVMEDIA_TYPE_AUDIO) else {
            throw MediaError(.noStream, operation: "opening audio", path: path, message: "no audio stream")
        }
        streamIndex = index
        let stream = demuxer.stream(index)
        timeBase = Rational(stream.pointee.time_base)
        let declared = stream.pointee.duration
        health = DecodeHealth(expectedSeconds: declared != FF.noPTS && declared > 0
                              ? Rational(stream.pointee.time_base).seconds(declared) : demuxer.duration)
        let ctx = try demuxer.openDecoder(stream: index, threads: nil, what: "audio")
        codec = ctx
        if ctx.pointee.sample_rate <= 0 || ctx.pointee.ch_layout.nb_channels <= 0 {
            throw MediaError(.corrupt, operation: "opening audio", path: path, message: "audio stream has no sample rate or channels")
        }
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = codec
        avcodec_free_context(&ctx)
    }

    func read() throws -> AudioBlock? {
        while true {
            frame.unref()
            let code = avcodec_receive_frame(codec, frame.pointer)
            if code >= 0 {
                let f = frame.pointer.pointee
                let pts = f.best_effort_timestamp
                var planes: [UnsafePointer<UInt8>?] = []
                let count = av_sample_fmt_is_planar(format) != 0 ? channels : 1
                for c in 0..<count { planes.append(UnsafePointer(f.extended_data[c])) }
                let seconds = pts == FF.noPTS ? (health.endSeconds ?? 0) : timeBase.seconds(pts)
                if f.flags & AV_FRAME_FLAG_CORRUPT != 0 || f.decode_error_flags != 0 {
                    health.corrupt(String(format: "audio at %.3f s decoded with errors", seconds))
                }
                health.decoded(endingAt: seconds + Double(f.nb_samples) / Double(max(1, sampleRate)))
                return AudioBlock(seconds: seconds, frames: Int(f.nb_samples), planes: planes)
            }
            if code == FF.eof || (draining && code == FF.eagain) { return nil }
            if code != FF.eagain {
                health.skipped("damaged audio frame skipped: \(FF.message(code))")
                continue
            }
            try feed()
        }
    }

    private func feed() throws {
        while true {
            let more: Bool
            do { more = try demuxer.read(into: packet.pointer) } catch let error as MediaError {
                health.skipped("stopped reading at damage: \(error.message)")
                more = false
            }
            if !more { draining = true; _ = avcodec_send_packet(codec, nil); return }
            defer { packet.unref() }
            guard Int(packet.pointer.pointee.stream_index) == streamIndex else { continue }
            let code = avcodec_send_packet(codec, packet.pointer)
            if code < 0 && code != FF.eagain {
                health.skipped("damaged audio packet skipped: \(FF.message(code))")
                continue
            }
            return
        }
    }
}

/// Audio read by libsndfile (WAV, FLAC, OGG/Vorbis, AIFF, …) as interleaved floats.
final class SndFileSource: AudioSource {
    private var handle: OpaquePointer?
    private var info = SF_INFO()
    private var buffer: [Float]
    private var framesRead = 0
    private(set) var health: DecodeHealth
    let format = AV_SAMPLE_FMT_FLT
    let layout: AVChannelLayout

    var sampleRate: Int { Int(info.samplerate) }
    var channels: Int { Int(info.channels) }

    /// Nil when libsndfile does not read this file (FFmpeg is tried instead).
    init?(path: String) {
        handle = sf_open(path, Int32(SFM_READ), &info)
        guard handle != nil, info.channels > 0, info.samplerate > 0 else {
            if handle != nil { sf_close(handle) }
            return nil
        }
        var l = AVChannelLayout()
        av_channel_layout_default(&l, info.channels)
        layout = l
        health = DecodeHealth(expectedSeconds: Double(info.frames) / Double(info.samplerate))
        buffer = [Float](repeating: 0, count: 4096 * Int(info.channels))
    }

    deinit { if handle != nil { sf_close(handle) } }

    static func lastError(path: String) -> String {
        var info = SF_INFO()
        let h = sf_open(path, Int32(SFM_READ), &info)
        defer { if h != nil { sf_close(h) } }
        return h == nil ? String(cString: sf_strerror(nil)) : "libsndfile cannot read this file"
    }

    func read() throws -> AudioBlock? {
        let n = buffer.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, 4096) }
        guard n > 0 else {
            let code = sf_error(handle)
            if code != 0 { health.skipped("stopped reading: \(String(cString: sf_error_number(code)))") }
            return nil
        }
        let seconds = Double(framesRead) / Double(info.samplerate)
        framesRead += Int(n)
        health.decoded(endingAt: Double(framesRead) / Double(info.samplerate))
        let pointer = buffer.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self) }
        return AudioBlock(seconds: seconds, frames: Int(n), planes: [pointer])
    }
}
