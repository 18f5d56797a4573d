/// Variational refinement as a stand-alone step (OpenCV's `VariationalRefinement::calc`).
extension FlowField {
    /// Refines this flow between `i0` and `i1` at full resolution with DIS's variational energy.
    ///
    /// Uses ``DISOptions/variationalIterations``, ``DISOptions/sorIterations``, α, γ, δ, ω and ε
    /// (OpenCV's stand-alone `VariationalRefinement` uses ε = 0.001, its DIS 0.01).
    /// Handy to polish a flow from elsewhere, or to compare against OpenCV's refinement alone.
    ///
    /// - Throws: ``FlowError/sizeMismatch(expected:got:)`` when the images and the flow differ in size.
    public mutating func refine(from i0: GrayImage, to i1: GrayImage, options: DISOptions = .preset(.fast)) throws {
        for image in [i0, i1] where image.width != width || image.height != height {
            throw FlowError.sizeMismatch(expected: "\(width)×\(height)", got: "\(image.width)×\(image.height)")
        }
        let a = Plane(width: width, height: height, pad: FramePyramid.halo)
        let b = Plane(width: width, height: height, pad: FramePyramid.halo)
        let u = Plane(width: width, height: height, pad: 1), v = Plane(width: width, height: height, pad: 1)
        for y in 0..<height {
            for x in 0..<width {
                a.row(y)[x] = i0.pixels[y * width + x]
                b.row(y)[x] = i1.pixels[y * width + x]
                u.row(y)[x] = uv[2 * (y * width + x)]
                v.row(y)[x] = uv[2 * (y * width + x) + 1]
            }
        }
        a.replicateBorder(); b.replicateBorder()
        let refiner = VariationalRefiner(width: width, height: height)
        refiner.refine(i0: a, i1: b, u: u, v: v, options: options, team: nil)
        for y in 0..<height {
            for x in 0..<width {
                uv[2 * (y * width + x)] = u.row(y)[x]
                uv[2 * (y * width + x) + 1] = v.row(y)[x]
            }
        }
    }
}
