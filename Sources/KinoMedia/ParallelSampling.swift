import Dispatch

extension VideoDecoder {
    /// Decodes exact frames with several decoders at once, each taking a contiguous run of the
    /// sorted indices (so each keeps the cheap forward-decoding path), and returns them in the
    /// order asked.
    ///
    /// On a small machine one single-threaded decoder per core beats one frame-threaded decoder
    /// for sparse samples: frame threading pays a pipeline refill after every seek.
    /// - Parameters:
    ///   - index: The stream's frame index if already scanned (otherwise each worker scans).
    ///   - workers: Decoders to run at once (each with `options.threads` threads).
    /// - Throws: The first `MediaError` any decoder meets.
    public static func sample(path: String, at indices: [Int], options: VideoDecodeOptions = .init(),
                              index: FrameIndex? = nil, workers: Int = 2) throws -> [VideoFrame] {
        let wanted = Array(Set(indices)).sorted()
        guard !wanted.isEmpty else { return [] }
        let parts = max(1, min(workers, wanted.count))
        let per = (wanted.count + parts - 1) / parts
        let results = ResultSlots(count: parts)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let slice = Array(wanted[min(wanted.count, p * per)..<min(wanted.count, (p + 1) * per)])
            results.set(p, Result {
                guard !slice.isEmpty else { return [] }
                let decoder = try VideoDecoder(path: path, options: options)
                if let index { decoder.adopt(index) }
                return try decoder.frames(at: slice)
            })
        }
        var byIndex: [Int: VideoFrame] = [:]
        for r in results.values { for f in try r.get() { byIndex[f.index] = f } }
        return indices.map { byIndex[$0]! }
    }
}

/// Results written from concurrent workers, one slot each.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<[VideoFrame], any Error>]
    private let lock = DispatchSemaphore(value: 1)
    init(count: Int) { slots = Array(repeating: .success([]), count: count) }
    func set(_ i: Int, _ r: Result<[VideoFrame], any Error>) { lock.wait(); slots[i] = r; lock.signal() }
    var values: [Result<[VideoFrame], any Error>] { lock.wait(); defer { lock.signal() }; return slots }
}
