import CFFmpeg

/// What a container and its streams say about themselves, plus what Kino measured.
public struct MediaInfo: Sendable, Codable {
    public var path: String
    /// Container short name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    public var format: String
    public var formatLongName: String
    /// Container duration in seconds (0 when unknown).
    public var duration: Double
    /// Overall bit rate in bits per second (0 when unknown).
    public var bitRate: Int64
    public var streams: [StreamInfo]

    /// The first video stream, if any.
    public var video: StreamInfo? { streams.first { $0.type == .video } }
    /// The first audio stream, if any.
    public var audio: StreamInfo? { streams.first { $0.type == .audio } }
}

/// One stream of a container.
public struct StreamInfo: Sendable, Codable {
    public enum MediaType: String, Sendable, Codable { case video, audio, subtitle, data, attachment, unknown }

    public var index: Int
    public var type: MediaType
    public var codec: String
    public var codecLongName: String
    public var timeBase: Rational
    /// Stream start time in seconds (may be negative or 0).
    public var startTime: Double
    /// Stream duration in seconds (0 when unknown).
    public var duration: Double
    public var bitRate: Int64

    // Video
    public var width: Int?
    public var height: Int?
    public var pixelFormat: String?
    /// Display rotation in degrees (counter-clockwise, from the display matrix), 0 when none.
    public var rotation: Double?
    public var averageFrameRate: Rational?
    /// FFmpeg's `r_frame_rate`: the lowest rate that represents all timestamps.
    public var realFrameRate: Rational?
    /// Frame count the header claims (`nb_frames`), 0 when absent. Can be wrong.
    public var headerFrameCount: Int?
    /// Exact frame count from the packet scan (present when the scan was requested).
    public var frameCount: Int?
    /// Keyframe positions as frame indices (presentation order), from the packet scan.
    public var keyframeIndices: [Int]?
    /// Keyframe times in seconds.
    public var keyframeTimes: [Double]?
    /// True when the frame rate varies (frame durations differ by more than 1 %).
    public var variableFrameRate: Bool?
    /// True when presentation order differs from decode order (B-frames).
    public var hasReordering: Bool?

    // Audio
    public var sampleRate: Int?
    public var channels: Int?
    public var channelLayout: String?
    public var sampleFormat: String?
}

public enum MediaProbe {
    /// Opens `path` and describes it.
    ///
    /// - Parameters:
    ///   - path: Any file FFmpeg can read.
    ///   - scanPackets: Also read every video packet (without decoding) for the exact frame count
    ///     and keyframe positions. Cheap compared with decoding; reads the whole file.
    /// - Throws: `MediaError` when the file is missing, a directory, empty, or not media.
    public static func probe(_ path: String, scanPackets: Bool = true) throws -> MediaInfo {
        let demuxer = try Demuxer(path: path)
        let ctx = demuxer.ctx.pointee
        var streams: [StreamInfo] = []
        for i in 0..<demuxer.streamCount {
            streams.append(describe(demuxer.stream(i), index: i))
        }
        if scanPackets {
            for i in streams.indices where streams[i].type == .video {
                let index = try FrameIndex.scan(demuxer, streamIndex: i)
                fill(&streams[i], from: index)
            }
        }
        return MediaInfo(
            path: path,
            format: ctx.iformat.map { String(cString: $0.pointee.name) } ?? "",
            formatLongName: ctx.iformat.flatMap { $0.pointee.long_name.map { String(cString: $0) } } ?? "",
            duration: ctx.duration > 0 ? Double(ctx.duration) / Double(kino_av_time_base()) : 0,
            bitRate: ctx.bit_rate,
            streams: streams)
    }

    static func fill(_ info: inout StreamInfo, from index: FrameIndex) {
        info.frameCount = index.count
        info.keyframeIndices = index.keyframes
        info.keyframeTimes = index.keyframes.map { index.seconds($0) }
        info.hasReordering = index.entries.enumerated().contains { $0.offset != $0.element.decodeOrder }
        if index.count > 2 {
            var deltas: [Int64] = []
            deltas.reserveCapacity(index.count - 1)
            for i in 1..<index.count { deltas.append(index.entries[i].pts - index.entries[i - 1].pts) }
            let sorted = deltas.sorted()
            let median = Double(sorted[sorted.count / 2])
            info.variableFrameRate = deltas.contains { abs(Double($0) - median) > 0.01 * max(1, median) }
        } else {
            info.variableFrameRate = false
        }
    }

    static func describe(_ stream: UnsafeMutablePointer<AVStream>, index: Int) -> StreamInfo {
        let st = stream.pointee
        let par = st.codecpar.pointee
        let type: StreamInfo.MediaType
        switch par.codec_type {
        case AVMEDIA_TYPE_VIDEO: type = .video
        case AVMEDIA_TYPE_AUDIO: type = .audio
        case AVMEDIA_TYPE_SUBTITLE: type = .subtitle
        case AVMEDIA_TYPE_DATA: type = .data
        case AVMEDIA_TYPE_ATTACHMENT: type = .attachment
        default: type = .unknown
        }
        let descriptor = avcodec_descriptor_get(par.codec_id)
        let timeBase = Rational(st.time_base)
        var info = StreamInfo(
            index: index, type: type,
            codec: descriptor.map { String(cString: $0.pointee.name) } ?? "unknown",
            codecLongName: descriptor.flatMap { $0.pointee.long_name.map { String(cString: $0) } } ?? "",
            timeBase: timeBase,
            startTime: st.start_time == FF.noPTS ? 0 : timeBase.seconds(st.start_time),
            duration: st.duration == FF.noPTS ? 0 : timeBase.seconds(st.duration),
            bitRate: par.bit_rate)
        if type == .video {
            info.width = Int(par.width)
            info.height = Int(par.height)
            if let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)) { info.pixelFormat = String(cString: name) }
            info.averageFrameRate = Rational(st.avg_frame_rate)
            info.realFrameRate = Rational(st.r_frame_rate)
            info.headerFrameCount = Int(st.nb_frames)
            info.rotation = 0
            if let matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nil) {
                let angle = matrix.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
                if angle.isFinite { info.rotation = angle == 0 ? 0 : angle }
            }
        } else if type == .audio {
            info.sampleRate = Int(par.sample_rate)
            var layout = par.ch_layout
            info.channels = Int(layout.nb_channels)
            var buffer = [CChar](repeating: 0, count: 128)
            if av_channel_layout_describe(&layout, &buffer, buffer.count) >= 0 {
                info.channelLayout = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
            if let name = av_get_sample_fmt_name(AVSampleFormat(rawValue: par.format)) { info.sampleFormat = String(cString: name) }
        }
        return info
    }
}

extension MediaInfo {
    /// Why the header cannot be believed, when it cannot: an audio stream whose sample rate no
    /// recording has (a damaged WAV header claiming 1 Hz would make seconds of samples into
    /// days of "media"). `nil` for a plausible header.
    public var headerProblem: String? {
        for stream in streams where stream.type == .audio {
            if let rate = stream.sampleRate, !AudioDecoder.plausibleRates.contains(rate) {
                return "stream \(stream.index): the header gives a sample rate of \(rate) Hz, outside the "
                    + "\(AudioDecoder.plausibleRates.lowerBound)…\(AudioDecoder.plausibleRates.upperBound) Hz of real audio (a damaged header?)"
            }
        }
        return nil
    }
}
