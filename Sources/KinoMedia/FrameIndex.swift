import CFFmpeg

/// One video packet seen by the index scan, in presentation order once sorted.
public struct IndexEntry: Sendable, Hashable, Codable {
    /// Presentation timestamp (stream time base).
    public var pts: Int64
    /// Decode timestamp (stream time base); equal to `pts` when the container has none.
    public var dts: Int64
    /// Position of the packet in decode order.
    public var decodeOrder: Int
    /// Whether decoding can start at this packet.
    public var isKeyframe: Bool
    /// Duration in time-base units, 0 when unknown.
    public var duration: Int64
}

/// The exact frame index of a video stream, built by scanning packets without decoding.
///
/// The index is what makes random access exact: frame `i` is the `i`-th packet in presentation
/// order, whatever the header claims, and each frame knows the keyframe decoding must start from.
public struct FrameIndex: Sendable, Codable {
    /// Entries in presentation order (ties broken by decode order).
    public var entries: [IndexEntry]
    /// Indices into `entries` of keyframes, ascending.
    public var keyframes: [Int]
    /// Every keyframe packet in decode order, including ones the container marks as not shown
    /// (edit lists): decoding may have to start from them.
    public var seekPoints: [IndexEntry]
    /// The stream time base.
    public var timeBase: Rational
    /// True when every packet carried a presentation timestamp. When false (AVI and raw streams
    /// carry decode times only) entries are in decode order and frames are found by counting the
    /// decoder's output from a keyframe, assuming closed GOPs.
    public var hasPresentationTimestamps: Bool

    public var count: Int { entries.count }

    /// Seconds of frame `i`.
    public func seconds(_ i: Int) -> Double { timeBase.seconds(entries[i].pts) }

    /// The index of the frame displayed at `seconds`: the last frame whose time is ≤ `seconds`
    /// (the first frame for earlier times).
    public func frameIndex(atSeconds seconds: Double) -> Int? {
        guard !entries.isEmpty else { return nil }
        let ticks = timeBase.ticks(forSeconds: seconds)
        // Exact tick comparison, with a half-tick tolerance for decimal input like 1.5 s at 1/30.
        var lo = 0, hi = entries.count - 1, best = 0
        while lo <= hi {
            let mid = (lo + hi) / 2
            if entries[mid].pts <= ticks || timeBase.seconds(entries[mid].pts) <= seconds + 1e-9 {
                best = mid; lo = mid + 1
            } else {
                hi = mid - 1
            }
        }
        return best
    }

    /// Builds an index by reading every packet of `streamIndex`; nothing is decoded.
    static func scan(_ demuxer: Demuxer, streamIndex: Int) throws -> FrameIndex {
        let stream = demuxer.stream(streamIndex)
        let timeBase = Rational(stream.pointee.time_base)
        let packet = Packet()
        var raw: [IndexEntry] = []
        var seekPoints: [IndexEntry] = []
        var complete = true
        var lastDTS = Int64.min
        var order = 0
        while true {
            let more: Bool
            do { more = try demuxer.read(into: packet.pointer) } catch { break } // damaged tail: index what was readable
            guard more else { break }
            defer { packet.unref() }
            let p = packet.pointer.pointee
            guard Int(p.stream_index) == streamIndex else { continue }
            if p.flags & kino_pkt_flag_corrupt() != 0 && p.size == 0 { continue }
            var pts = p.pts, dts = p.dts
            if pts == FF.noPTS { pts = dts; complete = false }
            if dts == FF.noPTS { dts = pts }
            if pts == FF.noPTS {
                // No timestamps at all (raw elementary streams): number packets by decode order.
                pts = lastDTS == Int64.min ? 0 : lastDTS + max(1, p.duration)
                dts = pts
                complete = false
            }
            lastDTS = dts
            let entry = IndexEntry(pts: pts, dts: dts, decodeOrder: order,
                                   isKeyframe: p.flags & kino_pkt_flag_key() != 0, duration: p.duration)
            order += 1
            if entry.isKeyframe { seekPoints.append(entry) }
            // Packets an edit list cuts are decoded (as references) but never shown: not frames.
            if p.flags & kino_pkt_flag_discard() == 0 { raw.append(entry) }
        }
        try demuxer.rewind()
        raw.sort { ($0.pts, $0.decodeOrder) < ($1.pts, $1.decodeOrder) }
        var keys: [Int] = []
        for (i, e) in raw.enumerated() where e.isKeyframe { keys.append(i) }
        return FrameIndex(entries: raw, keyframes: keys, seekPoints: seekPoints, timeBase: timeBase, hasPresentationTimestamps: complete)
    }
}
