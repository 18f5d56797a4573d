import CFFmpeg

/// Options for decoding video.
public struct VideoDecodeOptions: Sendable, Hashable {
    public var width: Int?
    public var height: Int?
    /// When set, scale so the short side equals this (keeps aspect; overrides width/height).
    public var shortSide: Int?
    public var resize: ResizeMode
    public var layout: PixelLayout
    /// Decoder threads; 0 lets FFmpeg choose.
    public var threads: Int
    /// When false, frames carry timestamps but no pixels (no conversion cost).
    public var convert: Bool

    public init(width: Int? = nil, height: Int? = nil, shortSide: Int? = nil, resize: ResizeMode = .stretch,
                layout: PixelLayout = .rgb24, threads: Int = 0, convert: Bool = true) {
        self.width = width
        self.height = height
        self.shortSide = shortSide
        self.resize = resize
        self.layout = layout
        self.threads = threads
        self.convert = convert
    }

    var picture: PictureFormat {
        PictureFormat(width: width, height: height, shortSide: shortSide, resize: resize, layout: layout)
    }
}

/// Decodes the video stream of a file, sequentially or by exact frame index / timestamp.
///
/// Sequential use: call `nextFrame()` until it returns nil. Random access: `frame(at:)`,
/// `frame(atSeconds:)` and `frames(at:)` use a packet index (built on first use, without
/// decoding) to seek to the right keyframe and decode forward to the exact frame.
///
/// Not thread-safe: use one decoder from one thread at a time.
public final class VideoDecoder: @unchecked Sendable {
    public let path: String
    public let options: VideoDecodeOptions
    /// The decoded stream, as the container describes it.
    public let info: StreamInfo
    /// What decoding has met so far: skipped packets, concealed frames, how far it got.
    public private(set) var health: DecodeHealth
    /// The first problems met and skipped while decoding (damaged packets), in order.
    public var warnings: [String] { health.messages }

    let demuxer: Demuxer
    let streamIndex: Int
    let codec: UnsafeMutablePointer<AVCodecContext>
    let timeBase: Rational
    private let packet = Packet()
    private let decoded = Frame()
    /// Pictures of the last two frames returned without pixels by ``nextFrame(convertIf:)``.
    private let held = [Frame(), Frame()]
    private var heldIndex = [-1, -1]
    private let scaler = Scaler()
    private var draining = false
    private var finished = false
    private var sequentialIndex = 0
    private var cachedIndex: FrameIndex?
    private var ptsToIndex: [Int64: Int] = [:]
    /// Exact index of the last frame returned by random access, and the last packet dts sent.
    private var position: (frame: Int, dts: Int64)?
    /// While seeking forward to a target, packets decoded before the target's own packet may skip
    /// non-reference frames: no other frame depends on them, so the result stays exact.
    private var skipNonReferenceBefore: Int64?
    /// Packets of our stream sent to the decoder since it was opened.
    private var packetsSent = 0

    /// Opens the best video stream of `path`.
    /// - Throws: `MediaError` (`.notFound`, `.notMedia`, `.noStream`, `.unsupported`, …).
    public init(path: String, options: VideoDecodeOptions = .init()) throws {
        self.path = path
        self.options = options
        demuxer = try Demuxer(path: path)
        guard let index = demuxer.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaError(.noStream, operation: "opening video", path: path, message: "no video stream")
        }
        streamIndex = index
        let stream = demuxer.stream(index)
        info = MediaProbe.describe(stream, index: index)
        timeBase = Rational(stream.pointee.time_base)
        health = DecodeHealth(expectedSeconds: info.duration > 0 ? info.duration : demuxer.duration)
        codec = try demuxer.openDecoder(stream: index, threads: options.threads, what: "video")
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = codec
        avcodec_free_context(&ctx)
    }

    // MARK: Sequential decoding

    /// The next frame in presentation order, or nil at the end of the stream.
    ///
    /// Frames are numbered by output order from the start (or from the last seek).
    public func nextFrame() throws -> VideoFrame? {
        guard let f = try decodeNext() else { return nil }
        defer { sequentialIndex += 1 }
        return try makeFrame(f, index: sequentialIndex)
    }

    /// The next frame, converted only if `convert(index, pts)` says so; otherwise it carries its
    /// timestamps but no pixels, and its decoded picture is kept until two more frames have been
    /// decoded, so ``convertDeferred(_:)`` can still fill it in. For consumers that know in advance
    /// which frames they will keep: the others skip the scaling and conversion.
    public func nextFrame(convertIf convert: (_ index: Int, _ pts: Int64) -> Bool) throws -> VideoFrame? {
        guard let f = try decodeNext() else { return nil }
        let index = sequentialIndex
        defer { sequentialIndex += 1 }
        if !options.convert || convert(index, presentationTime(f)) { return try makeFrame(f, index: index) }
        var frame = try makeFrame(f, index: index, convert: false)
        let slot = held[index % 2]
        slot.unref()
        let code = av_frame_ref(slot.pointer, f)
        if code < 0 { throw FF.error(code, "keeping a decoded frame", path: path) }
        heldIndex[index % 2] = index
        frame.width = 0
        frame.height = 0
        return frame
    }

    /// Fills in the pixels of a frame that ``nextFrame(convertIf:)`` returned without them.
    ///
    /// - Throws: `MediaError.outOfRange` when the frame is no longer held (more than the last two).
    public func convertDeferred(_ frame: inout VideoFrame) throws {
        let slot = frame.index % 2
        guard frame.index >= 0, heldIndex[slot] == frame.index else {
            throw MediaError(.outOfRange, operation: "converting a deferred frame", path: path,
                             message: "frame \(frame.index) is no longer held")
        }
        let out = try scaler.convert(held[slot].pointer, to: options.picture, path: path)
        frame.width = out.width
        frame.height = out.height
        frame.bytes = out.bytes
        frame.floats = out.floats
        held[slot].unref()
        heldIndex[slot] = -1
    }

    /// Decodes the next raw frame; nil at end of stream. The frame stays valid until the next call.
    func decodeNext() throws -> UnsafeMutablePointer<AVFrame>? {
        while true {
            decoded.unref()
            let code = avcodec_receive_frame(codec, decoded.pointer)
            if code >= 0 {
                tally(decoded.pointer)
                return decoded.pointer
            }
            if code == FF.eof { finished = true; return nil }
            if code != FF.eagain {
                if code == kino_averror_invaliddata() { health.skipped("damaged frame skipped: \(FF.message(code))"); continue }
                throw FF.error(code, "decoding video", path: path)
            }
            if draining { finished = true; return nil }
            try feed()
        }
    }

    /// Sends one packet of our stream (or the end-of-stream flush) to the decoder.
    private func feed() throws {
        while true {
            let more: Bool
            do {
                more = try demuxer.read(into: packet.pointer)
            } catch let error as MediaError {
                health.skipped("stopped reading at damage: \(error.message)")
                more = false
            }
            if !more {
                draining = true
                _ = avcodec_send_packet(codec, nil)
                return
            }
            defer { packet.unref() }
            guard Int(packet.pointer.pointee.stream_index) == streamIndex else { continue }
            let dts = packet.pointer.pointee.dts != FF.noPTS ? packet.pointer.pointee.dts : packet.pointer.pointee.pts
            if let limit = skipNonReferenceBefore {
                codec.pointee.skip_frame = dts != FF.noPTS && dts < limit ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
            }
            let code = avcodec_send_packet(codec, packet.pointer)
            if code < 0 && code != FF.eagain {
                health.skipped("damaged packet at dts \(dts) skipped: \(FF.message(code))")
                continue
            }
            if let p = position { position = (p.frame, dts) }
            packetsSent += 1
            return
        }
    }

    /// Counts a decoded frame in ``health``, and whether the decoder flagged it as damaged.
    private func tally(_ f: UnsafeMutablePointer<AVFrame>) {
        let seconds = timeBase.seconds(presentationTime(f))
        if f.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || f.pointee.decode_error_flags != 0 {
            health.corrupt(String(format: "frame at %.3f s decoded with errors (concealed)", seconds))
        }
        health.decoded(endingAt: seconds + max(0, timeBase.seconds(f.pointee.pkt_duration)))
    }

    /// Builds a `VideoFrame` from a decoded `AVFrame`.
    func makeFrame(_ f: UnsafeMutablePointer<AVFrame>, index: Int, convert: Bool = true) throws -> VideoFrame {
        let pts = presentationTime(f)
        var frame = VideoFrame(index: index, pts: pts, timeBase: timeBase, seconds: timeBase.seconds(pts),
                               duration: timeBase.seconds(f.pointee.pkt_duration),
                               width: Int(f.pointee.width), height: Int(f.pointee.height), layout: options.layout)
        if options.convert && convert {
            let out = try scaler.convert(f, to: options.picture, path: path)
            frame.width = out.width
            frame.height = out.height
            frame.bytes = out.bytes
            frame.floats = out.floats
        }
        return frame
    }

    func presentationTime(_ f: UnsafeMutablePointer<AVFrame>) -> Int64 {
        let best = f.pointee.best_effort_timestamp
        return best != FF.noPTS ? best : (f.pointee.pts != FF.noPTS ? f.pointee.pts : Int64(sequentialIndex))
    }

    // MARK: Exact random access

    /// The packet index of this stream (scanned on first use; nothing is decoded).
    public func frameIndex() throws -> FrameIndex {
        if let cachedIndex { return cachedIndex }
        let index = try FrameIndex.scan(try Demuxer(path: path), streamIndex: streamIndex)
        adopt(index)
        return index
    }

    /// Uses an index scanned by another decoder of the same file.
    func adopt(_ index: FrameIndex) {
        guard cachedIndex == nil else { return }
        cachedIndex = index
        ptsToIndex.reserveCapacity(index.count)
        for (i, e) in index.entries.enumerated() where ptsToIndex[e.pts] == nil { ptsToIndex[e.pts] = i }
    }

    /// The exact frame with presentation index `index`.
    /// - Throws: `MediaError.outOfRange` for an index outside the stream, `.corrupt` when the frame
    ///   cannot be decoded.
    public func frame(at index: Int) throws -> VideoFrame {
        let idx = try frameIndex()
        guard index >= 0 && index < idx.count else {
            throw MediaError(.outOfRange, operation: "reading frame \(index)", path: path,
                             message: "the stream has \(idx.count) frames (0…\(idx.count - 1))")
        }
        guard idx.hasPresentationTimestamps else { return try frameByCounting(index, in: idx) }
        var candidates = keyframeCandidates(for: index, in: idx)
        if let p = position, p.frame < index, let k = candidates.first, k.dts <= p.dts {
            if let f = try decodeForward(to: index, in: idx) { return f }
        }
        // A fresh decoder stands at the start of the file: a target in the first group needs no
        // seek (and some demuxers, image2 with a single JPEG among them, cannot seek back to a
        // packet that stream probing already read).
        if packetsSent == 0, !draining, let first = idx.seekPoints.first,
           candidates.contains(where: { $0.decodeOrder == first.decodeOrder }) {
            position = (-1, Int64.min)
            if let f = try decodeForward(to: index, in: idx) { return f }
        }
        while !candidates.isEmpty {
            let k = candidates.removeFirst()
            try demuxer.seek(stream: streamIndex, to: k.pts)
            avcodec_flush_buffers(codec)
            draining = false
            finished = false
            position = (-1, Int64.min)
            if let f = try decodeForward(to: index, in: idx) { return f }
        }
        return try frameBySequentialDecode(index)
    }

    /// The frame displayed at `seconds` (the last frame starting at or before it).
    public func frame(atSeconds seconds: Double) throws -> VideoFrame {
        let idx = try frameIndex()
        guard let i = idx.frameIndex(atSeconds: seconds) else {
            throw MediaError(.outOfRange, operation: "reading the frame at \(seconds) s", path: path, message: "the stream has no frames")
        }
        let end = idx.seconds(idx.count - 1) + max(idx.entries[idx.count - 1].duration > 0 ? timeBase.seconds(idx.entries[idx.count - 1].duration) : 0, 0)
        if seconds < idx.seconds(0) - 1e-9 || seconds > max(end, idx.seconds(idx.count - 1)) + 1e-9 {
            throw MediaError(.outOfRange, operation: "reading the frame at \(seconds) s", path: path,
                             message: String(format: "the stream spans %.3f…%.3f s", idx.seconds(0), end))
        }
        return try frame(at: i)
    }

    /// Several exact frames, decoded in one forward pass per keyframe group; returned in the order asked.
    public func frames(at indices: [Int]) throws -> [VideoFrame] {
        var byIndex: [Int: VideoFrame] = [:]
        for i in Set(indices).sorted() { byIndex[i] = try frame(at: i) }
        return indices.map { byIndex[$0]! }
    }

    /// Keyframes to try, best first: the latest one that precedes the target in decode order and
    /// in presentation order (open-GOP leading pictures need the previous GOP), then earlier ones.
    private func keyframeCandidates(for index: Int, in idx: FrameIndex) -> [IndexEntry] {
        let target = idx.entries[index]
        let usable = idx.seekPoints
            .filter { $0.decodeOrder <= target.decodeOrder && $0.pts <= target.pts }
            .sorted { $0.decodeOrder > $1.decodeOrder }
        return Array(usable.prefix(3))
    }

    /// Decodes forward until frame `index` appears; nil if it was passed or the stream ended.
    private func decodeForward(to index: Int, in idx: FrameIndex) throws -> VideoFrame? {
        let targetPTS = idx.entries[index].pts
        skipNonReferenceBefore = idx.entries[index].dts
        defer { skipNonReferenceBefore = nil; codec.pointee.skip_frame = AVDISCARD_DEFAULT }
        var seenTarget = 0
        let duplicatesBefore = index - (ptsToIndex[targetPTS] ?? index)
        while let f = try decodeNext() {
            let pts = presentationTime(f)
            if pts == targetPTS {
                if seenTarget == duplicatesBefore {
                    position = (index, position?.dts ?? Int64.min)
                    return try makeFrame(f, index: index)
                }
                seenTarget += 1
            } else if pts > targetPTS {
                return nil
            }
        }
        return nil
    }

    /// For streams without presentation timestamps: with closed GOPs, the `n`-th frame the decoder
    /// outputs after a seek to keyframe `k` is frame `k.decodeOrder + n`.
    private func frameByCounting(_ index: Int, in idx: FrameIndex) throws -> VideoFrame {
        guard let k = idx.seekPoints.last(where: { $0.decodeOrder <= index }) else {
            return try frameBySequentialDecode(index)
        }
        var next: Int
        if let p = position, p.frame < index, k.dts <= p.dts {
            next = p.frame + 1
        } else {
            try demuxer.seek(stream: streamIndex, to: k.dts)
            avcodec_flush_buffers(codec)
            draining = false
            finished = false
            position = (-1, Int64.min)
            next = k.decodeOrder
        }
        while let f = try decodeNext() {
            if next == index {
                position = (index, position?.dts ?? Int64.min)
                var frame = try makeFrame(f, index: index)
                frame.pts = idx.entries[index].pts
                frame.seconds = idx.seconds(index)
                return frame
            }
            next += 1
        }
        return try frameBySequentialDecode(index)
    }

    /// Last resort for streams without usable timestamps: decode from the start and count.
    private func frameBySequentialDecode(_ index: Int) throws -> VideoFrame {
        try demuxer.rewind()
        avcodec_flush_buffers(codec)
        draining = false
        finished = false
        position = nil
        var n = 0
        while let f = try decodeNext() {
            if n == index { return try makeFrame(f, index: index) }
            n += 1
        }
        throw MediaError(.corrupt, operation: "reading frame \(index)", path: path,
                         message: "the decoder produced only \(n) frames")
    }
}
