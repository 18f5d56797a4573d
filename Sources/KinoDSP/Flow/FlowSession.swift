// DIS optical flow after Kroeger, Timofte, Dai, Van Gool: "Fast Optical Flow using Dense Inverse Search", ECCV 2016.
import Dispatch

/// A reusable DIS optical-flow engine for one frame size: all buffers are allocated at init.
///
/// Two frames:
///
///     let session = try FlowSession(width: 640, height: 360, options: .preset(.fast))
///     let flow = try session.flow(from: frame0, to: frame1)     // frame0(x) ≈ frame1(x + flow(x))
///
/// Video: ``push(_:into:)`` each frame; from the second frame on it writes the flow from the
/// previous frame to this one. Frame t+1's pyramid becomes frame t's on the next call, so each
/// frame is decimated once; ``backwardFlow(into:)`` then gives the flow from the newest frame back
/// to the previous one using the same two pyramids. A session is not thread-safe; use one per
/// thread (``DISOptions/threads`` sets the threads inside one computation).
public final class FlowSession {
    public let width: Int
    public let height: Int
    public let options: DISOptions
    /// Level sizes from the finest processed scale (index 0) to the coarsest.
    let sizes: [(w: Int, h: Int)]
    private var current: FramePyramid    // the newest frame
    private var previous: FramePyramid   // the frame before it
    private var frames = 0
    private let upsamplers: [BilinearResampler]   // level k+1 → k
    private let output: BilinearResampler
    private let u: [Plane], v: [Plane], acc: [Plane]
    private let priorU: [Plane], priorV: [Plane]
    private var hasPrior = false
    private let refiners: [VariationalRefiner?]
    private let sparseX: UnsafeMutablePointer<Float>, sparseY: UnsafeMutablePointer<Float>
    /// The second thread when ``DISOptions/threads`` > 1.
    private let worker: WorkerTeam?
    /// The worker while it pays off (see ``measure(_:)``); nil makes every pass run here.
    private var team: WorkerTeam? { health.usesWorker ? worker : nil }
    private var health = WorkerHealth()

    /// Prepares a session for `width × height` frames.
    ///
    /// - Throws: ``FlowError/badOption(_:)`` for out-of-range options;
    ///   ``FlowError/imageTooSmall(width:height:minimum:)`` when the finest level holds no patch.
    public init(width: Int, height: Int, options: DISOptions = .preset(.fast)) throws {
        try options.validate()
        let minimum = options.patchSize << options.finestScale
        guard width >= minimum, height >= minimum else {
            throw FlowError.imageTooSmall(width: width, height: height, minimum: minimum)
        }
        self.width = width
        self.height = height
        self.options = options
        let coarsest = options.coarsestScale(width: width, height: height)
        var sizes = [(w: width >> options.finestScale, h: height >> options.finestScale)]
        for _ in stride(from: options.finestScale, to: coarsest, by: 1) {
            let last = sizes[sizes.count - 1]
            let next = (w: last.w / 2, h: last.h / 2)
            if next.w < options.patchSize || next.h < options.patchSize { break }
            sizes.append(next)
        }
        self.sizes = sizes
        current = FramePyramid(full: (width, height), sizes: sizes)
        previous = FramePyramid(full: (width, height), sizes: sizes)
        var ups = [BilinearResampler]()
        for k in 1..<max(sizes.count, 1) where sizes.count > 1 { ups.append(BilinearResampler(from: sizes[k], to: sizes[k - 1])) }
        upsamplers = ups
        output = BilinearResampler(from: sizes[0], to: (width, height))
        func planes() -> [Plane] { sizes.map { Plane(width: $0.w, height: $0.h, pad: 1) } }
        u = planes(); v = planes(); acc = planes()
        priorU = options.temporalPrior ? planes() : []
        priorV = options.temporalPrior ? planes() : []
        refiners = sizes.map { options.variationalIterations > 0 ? VariationalRefiner(width: $0.w, height: $0.h) : nil }
        let grid = PatchGrid(width: sizes[0].w, height: sizes[0].h, patchSize: options.patchSize,
                             stride: options.patchStride, sx: .allocate(capacity: 1), sy: .allocate(capacity: 1))
        grid.sx.deallocate(); grid.sy.deallocate()
        sparseX = .allocate(capacity: grid.rows * grid.cols)
        sparseY = .allocate(capacity: grid.rows * grid.cols)
        worker = options.threads > 1 ? WorkerTeam() : nil
    }

    deinit { sparseX.deallocate(); sparseY.deallocate() }

    /// Number of pyramid levels processed (finest scale to coarsest).
    public var levelCount: Int { sizes.count }

    /// Forgets previous frames (the next ``push(_:into:)`` starts a new video).
    public func reset() { frames = 0; hasPrior = false }

    /// Flow from `i0` to `i1`: `i0(x) ≈ i1(x + flow(x))`.
    ///
    /// - Throws: ``FlowError/sizeMismatch(expected:got:)`` when either frame differs from the session size.
    public func flow(from i0: GrayImage, to i1: GrayImage) throws -> FlowField {
        var out = FlowField(width: width, height: height)
        try flow(from: i0, to: i1, into: &out)
        return out
    }

    /// Same as ``flow(from:to:)`` but writes into an existing field (no allocation when it has the right size).
    public func flow(from i0: GrayImage, to i1: GrayImage, into out: inout FlowField) throws {
        try check(i0); try check(i1)
        try measure { try twoFrames(i0, i1, into: &out) }
    }

    private func twoFrames(_ i0: GrayImage, _ i1: GrayImage, into out: inout FlowField) throws {
        reset()
        // Both pyramids at once on two threads.
        forEachBand(2, team: team) { half in
            let (pyramid, frame) = half == 0 ? (self.previous, i0) : (self.current, i1)
            frame.pixels.withUnsafeBufferPointer {
                pyramid.load($0, width: self.width, fullCopy: self.options.finestScale == 0)
            }
        }
        frames = 2
        try pairReady(into: &out)
    }

    /// Adds the next video frame. Returns false for the first frame (no pair yet); otherwise
    /// writes the flow from the previous frame to this one into `out` and returns true.
    ///
    /// - Throws: ``FlowError/sizeMismatch(expected:got:)`` when the frame differs from the session size.
    @discardableResult
    public func push(_ frame: GrayImage, into out: inout FlowField) throws -> Bool {
        try check(frame)
        // The first frame only loads its pyramid: not a call to judge the worker by.
        if frames == 0 { return try nextFrame(frame, into: &out) }
        return try measure { try nextFrame(frame, into: &out) }
    }

    private func nextFrame(_ frame: GrayImage, into out: inout FlowField) throws -> Bool {
        swap(&current, &previous)
        frame.pixels.withUnsafeBufferPointer {
            current.load($0, width: width, fullCopy: options.finestScale == 0, team: team)
        }
        frames += 1
        guard frames >= 2 else { return false }
        try pairReady(into: &out)
        return true
    }

    /// Flow between the two loaded frames, and the temporal prior for the next one.
    private func pairReady(into out: inout FlowField) throws {
        previous.computeGradients(team: team)
        compute(i0: previous, i1: current, prior: options.temporalPrior && hasPrior, into: &out)
        if options.temporalPrior {
            for k in sizes.indices { priorU[k].copyPixels(from: u[k]); priorV[k].copyPixels(from: v[k]) }
            hasPrior = true
        }
    }

    /// Flow from the newest frame back to the previous one (after a successful ``push(_:into:)``).
    ///
    /// - Throws: ``FlowError/badImage(_:)`` when fewer than two frames have been pushed.
    public func backwardFlow(into out: inout FlowField) throws {
        guard frames >= 2 else { throw FlowError.badImage("backward flow needs two frames") }
        measure {
            current.computeGradients(team: team)
            compute(i0: current, i1: previous, prior: false, into: &out)
        }
    }

    /// Runs one call and tells ``WorkerHealth`` how long the caller waited for the worker.
    private func measure<R>(_ body: () throws -> R) rethrows -> R {
        guard let worker else { return try body() }
        let useWorker = health.usesWorker
        worker.resetWait()
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        if useWorker {
            health.record(waited: worker.waitedNanoseconds, elapsed: elapsed)
        } else {
            health.recordAlone(elapsed: elapsed)
        }
        return result
    }

    private func check(_ image: GrayImage) throws {
        guard image.width == width, image.height == height else {
            throw FlowError.sizeMismatch(expected: "\(width)×\(height)", got: "\(image.width)×\(image.height)")
        }
    }

    /// Coarse to fine: seed from the coarser level, patch search, densify, refine, upsample.
    private func compute(i0: FramePyramid, i1: FramePyramid, prior: Bool, into out: inout FlowField) {
        if out.width != width || out.height != height { out = FlowField(width: width, height: height) }
        let o = options
        for k in stride(from: sizes.count - 1, through: 0, by: -1) {
            let (w, h) = sizes[k]
            // Levels below ~4 k pixels (80×45) finish faster than two threads can hand work over.
            let team = w * h >= minimumParallelPixels ? self.team : nil, parts = team == nil ? 1 : 2
            if k == sizes.count - 1 {
                u[k].fill(0); v[k].fill(0)
            } else {
                let up = upsamplers[k]
                forEachBand(parts, team: team) { b in
                    let rows = bandRows(b, of: parts, rows: h)
                    up.run(self.u[k + 1], into: self.u[k], factor: 2, rows: rows)
                    up.run(self.v[k + 1], into: self.v[k], factor: 2, rows: rows)
                }
            }
            let grid = PatchGrid(width: w, height: h, patchSize: o.patchSize, stride: o.patchStride, sx: sparseX, sy: sparseY)
            let level = SearchLevel(i0: i0.levels[k].ref, i1: i1.levels[k].ref, gx: i0.gx[k].ref, gy: i0.gy[k].ref,
                                    seedU: u[k].ref, seedV: v[k].ref,
                                    priorU: prior ? priorU[k].ref : nil, priorV: prior ? priorV[k].ref : nil,
                                    iterationsPerSweep: o.spatialPropagation ? o.gradientDescentIterations / 2 : o.gradientDescentIterations,
                                    meanNormalization: o.meanNormalization, spatialPropagation: o.spatialPropagation)
            let stripes = o.spatialPropagation ? o.searchStripes : parts
            let split = balancedStripeSplit(stripes, rows: grid.rows)
            forEachBand(stripes, team: team, split: split) { b in grid.search(level, band: stripeRows(b, of: stripes, rows: grid.rows)) }
            let bands = parts
            forEachBand(bands, team: team) { b in
                grid.densify(i0: i0.levels[k].ref, i1: i1.levels[k].ref, u: self.u[k].ref, v: self.v[k].ref, acc: self.acc[k].ref,
                             band: bandRows(b, of: bands, rows: h))
            }
            refiners[k]?.refine(i0: i0.levels[k], i1: i1.levels[k], u: u[k], v: v[k], options: o, team: team)
        }
        let factor = Float(1 << o.finestScale), team = self.team, parts = team == nil ? 1 : 2
        out.uv.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            forEachBand(parts, team: team) { b in
                output.runInterleaved(u[0], v[0], into: base, factor: factor, rows: bandRows(b, of: parts, rows: height))
            }
        }
    }
}

/// Whether the second thread pulls its weight.
///
/// When the caller spends over ``starvedShare`` of three calls in a row waiting for the worker
/// (another process may hold the second core), the next ``probeCalls`` calls run on the caller
/// alone and are timed. If their median beats the median of the last nine two-thread calls, one
/// thread it is for ``fallbackCalls`` calls, then two threads are tried again; if not (a merely
/// noisy machine), two threads resume and no probe is made for ``fallbackCalls`` calls. The flow is
/// the same either way; only the speed changes.
struct WorkerHealth {
    /// Waiting share of a call that marks the worker as starved (measured at 720p `fast`: 3–10 %
    /// on two idle cores, 0–5 % at 640×360; 40–55 % in the calls a busy process let the worker join).
    static let starvedShare = 0.3
    static let probeCalls = 8
    static let fallbackCalls = 50

    private enum Mode { case two, probing, one }
    private var mode = Mode.two
    private var streak = 0                 // starved two-thread calls in a row
    private var recentTwo: [UInt64] = []   // elapsed times of the last nine two-thread calls
    private var alone: [UInt64] = []       // elapsed times of the probe
    private var countdown = 0              // calls left in `one`, or without probing in `two`

    var usesWorker: Bool { mode == .two }

    /// A call with the worker: how long the caller waited, and the whole call.
    mutating func record(waited: UInt64, elapsed: UInt64) {
        if countdown > 0 { countdown -= 1 }
        recentTwo.append(elapsed)
        if recentTwo.count > 9 { recentTwo.removeFirst() }
        streak = Double(waited) > Self.starvedShare * Double(elapsed) ? streak + 1 : 0
        if streak >= 3 && countdown == 0 { mode = .probing; alone = []; streak = 0 }
    }

    /// A call without the worker, and how long it took.
    mutating func recordAlone(elapsed: UInt64) {
        switch mode {
        case .probing:
            alone.append(elapsed)
            guard alone.count >= Self.probeCalls else { return }
            mode = Self.median(alone) < Self.median(recentTwo) ? .one : .two
            countdown = Self.fallbackCalls
        case .one:
            countdown -= 1
            if countdown <= 0 { mode = .two; countdown = 0 }
        case .two:
            break
        }
    }

    private static func median(_ values: [UInt64]) -> UInt64 {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
