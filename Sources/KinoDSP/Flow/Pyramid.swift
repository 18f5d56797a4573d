/// The image pyramid of one frame from the finest processed scale down to the coarsest, plus the
/// Sobel gradients a frame needs when it plays frame 0.
///
/// Levels are Float (no rounding to 8 bits between levels) and carry a 16-pixel replicated halo so
/// the patch search can sample displaced patches without bounds checks. A ``FlowSession`` keeps two
/// of these and swaps them, so in video each frame is decimated once and serves as frame 1 of one
/// pair and frame 0 of the next.
final class FramePyramid {
    static let halo = 16
    let levels: [Plane]
    let gx: [Plane]
    let gy: [Plane]
    /// Whether `gx`/`gy` match the current image (computed lazily: a frame 1 never needs them).
    var hasGradients = false

    /// Own resamplers (their scratch rows are per pyramid, so two pyramids can load concurrently).
    private let resamplers: [AreaResampler]

    init(full: (w: Int, h: Int), sizes: [(w: Int, h: Int)]) {
        var r = [AreaResampler(from: full, to: sizes[0])]
        for k in 1..<max(sizes.count, 1) where sizes.count > 1 { r.append(AreaResampler(from: sizes[k - 1], to: sizes[k])) }
        resamplers = r
        levels = sizes.map { Plane(width: $0.w, height: $0.h, pad: FramePyramid.halo) }
        gx = sizes.map { Plane(width: $0.w, height: $0.h, pad: 1) }
        gy = sizes.map { Plane(width: $0.w, height: $0.h, pad: 1) }
    }

    /// Decimates `pixels` (full resolution) into every level with area averaging; with a team,
    /// levels of at least 4 k pixels with an integer factor are split into two row bands.
    func load(_ pixels: UnsafeBufferPointer<Float>, width: Int, fullCopy: Bool, team: WorkerTeam? = nil) {
        for k in levels.indices {
            let dst = levels[k], r = resamplers[k]
            let src = k == 0 ? pixels.baseAddress! : UnsafePointer(levels[k - 1].origin)
            let stride = k == 0 ? width : levels[k - 1].stride
            let copy = k == 0 && fullCopy
            if let team, dst.width * dst.height >= minimumParallelPixels, copy || r.splitsRows {
                forEachBand(2, team: team) { b in
                    let rows = bandRows(b, of: 2, rows: dst.height)
                    if copy {
                        for y in rows { dst.row(y).update(from: src + y * stride, count: dst.width) }
                    } else {
                        r.run(src, stride: stride, into: dst, rows: rows, band: b)
                    }
                    dst.replicateSides(rows: rows)
                }
                dst.replicateTopBottom()
                continue
            }
            if copy {
                for y in 0..<dst.height { dst.row(y).update(from: src + y * stride, count: dst.width) }
            } else {
                r.run(src, stride: stride, into: dst)
            }
            dst.replicateBorder()
        }
        hasGradients = false
    }

    /// Unscaled 3×3 Sobel derivatives of every level with reflected borders (OpenCV's
    /// `spatialGradient`): the patch search's step length depends on this scale.
    func computeGradients(team: WorkerTeam?) {
        if hasGradients { return }
        forEachBand(team == nil ? 1 : 2, team: team) { b in
            for k in self.levels.indices {
                let h = self.levels[k].height
                let rows = team == nil ? 0..<h : bandRows(b, of: 2, rows: h)
                self.sobel(self.levels[k], self.gx[k], self.gy[k], rows: rows)
            }
        }
        hasGradients = true
    }

    private func sobel(_ img: Plane, _ gx: Plane, _ gy: Plane, rows: Range<Int>) {
        let w = img.width, h = img.height
        for y in rows {
            let up = img.row(y == 0 ? 1 : y - 1), mid = img.row(y), down = img.row(y == h - 1 ? h - 2 : y + 1)
            let ox = gx.row(y), oy = gy.row(y)
            for x in 1..<(w - 1) {
                ox[x] = (up[x + 1] - up[x - 1]) + 2 * (mid[x + 1] - mid[x - 1]) + (down[x + 1] - down[x - 1])
                oy[x] = (down[x - 1] - up[x - 1]) + 2 * (down[x] - up[x]) + (down[x + 1] - up[x + 1])
            }
            ox[0] = 0
            ox[w - 1] = 0
            oy[0] = 2 * (down[1] - up[1]) + 2 * (down[0] - up[0])
            oy[w - 1] = 2 * (down[w - 2] - up[w - 2]) + 2 * (down[w - 1] - up[w - 1])
        }
    }
}
