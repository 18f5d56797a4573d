/// Every knob of DIS optical flow, with OpenCV's three presets.
///
/// The names follow OpenCV's `DISOpticalFlow` setters so a preset can be matched one-to-one
/// against the reference. Example:
///
///     var options = DISOptions.preset(.fast)
///     options.variationalIterations = 2   // cheaper refinement
public struct DISOptions: Sendable, Equatable, Codable {
    /// OpenCV's presets (`DISOpticalFlow::PRESET_*`).
    public enum Preset: String, Sendable, CaseIterable, Codable { case ultrafast, fast, medium }

    /// Finest pyramid level processed (0 = full resolution, 2 = quarter); flow is upsampled from there.
    public var finestScale: Int = 2
    /// Square patch side in pixels. 8 takes the 8-wide SIMD path; other sizes run a scalar kernel.
    public var patchSize: Int = 8
    /// Distance between neighbouring patches; smaller means more overlap and more work.
    public var patchStride: Int = 4
    /// Gauss-Newton iterations per patch, split over the two propagation sweeps.
    public var gradientDescentIterations: Int = 16
    /// Outer (fixed-point) iterations of variational refinement per level; 0 turns refinement off.
    public var variationalIterations: Int = 5
    /// Inner red-black SOR sweeps per fixed-point iteration (OpenCV fixes this at 5).
    public var sorIterations: Int = 5
    /// Smoothness weight α of the refinement energy.
    public var alpha: Float = 20
    /// Gradient-constancy weight γ.
    public var gamma: Float = 10
    /// Brightness-constancy weight δ.
    public var delta: Float = 5
    /// SOR relaxation factor ω.
    public var omega: Float = 1.6
    /// ε of the robust penalty Ψ(s²) = sqrt(s² + ε²) in the refinement. OpenCV 5 DIS uses 0.01
    /// (its `VariationalRefinementEpsilon`; OpenCV 4 and the stand-alone refinement use 0.001).
    public var epsilon: Float = 0.01
    /// Coarsest pyramid level; nil picks it from the frame size as OpenCV does (its −1).
    public var coarsestScale: Int? = nil
    /// Subtract each patch's mean before matching (robust to brightness changes).
    public var meanNormalization = true
    /// Try the neighbouring patches' vectors before each search (two sweeps, forward and backward).
    public var spatialPropagation = true
    /// In a ``FlowSession`` video, also try the previous frame's flow as a candidate for each patch.
    public var temporalPrior = false
    /// Horizontal bands of the patch grid searched independently. Fixed (not tied to the thread
    /// count) so results do not depend on how many threads run; OpenCV uses 8.
    public var searchStripes: Int = 8
    /// Threads inside one flow computation: 1, or 2 (the caller plus one dedicated worker; larger
    /// values also mean 2 — the kernels are split for the two cores this project targets).
    public var threads: Int = 1

    public init() {}

    /// One of OpenCV's presets, with its exact parameters.
    public static func preset(_ preset: Preset) -> DISOptions {
        var o = DISOptions()
        switch preset {
        case .ultrafast:
            o.finestScale = 2; o.patchStride = 4; o.gradientDescentIterations = 12; o.variationalIterations = 0
        case .fast:
            o.finestScale = 2; o.patchStride = 4; o.gradientDescentIterations = 16; o.variationalIterations = 5
        case .medium:
            o.finestScale = 1; o.patchStride = 3; o.gradientDescentIterations = 25; o.variationalIterations = 5
        }
        return o
    }

    /// Checks ranges up front so a bad value throws instead of crashing deep in a kernel.
    ///
    /// - Throws: ``FlowError/badOption(_:)`` naming the offending option.
    public func validate() throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw FlowError.badOption(what) } }
        try need((0...8).contains(finestScale), "finestScale \(finestScale) not in 0…8")
        try need((2...32).contains(patchSize), "patchSize \(patchSize) not in 2…32")
        try need((1...patchSize).contains(patchStride), "patchStride \(patchStride) not in 1…patchSize")
        try need(gradientDescentIterations >= 0, "gradientDescentIterations is negative")
        try need(variationalIterations >= 0 && sorIterations >= 0, "refinement iterations are negative")
        try need(alpha >= 0 && gamma >= 0 && delta >= 0, "α, γ, δ must be non-negative")
        try need(omega > 0 && omega < 2, "omega \(omega) not in (0, 2)")
        try need(epsilon > 0, "epsilon must be positive")
        try need(coarsestScale.map { $0 >= finestScale && $0 <= 12 } ?? true, "coarsestScale below finestScale or above 12")
        try need(searchStripes >= 1 && threads >= 1, "searchStripes and threads must be at least 1")
    }

    /// Pyramid levels for a frame size, as OpenCV picks them: the coarsest level keeps motion up to
    /// about a quarter of the longer side within reach and still holds one patch on the shorter side.
    func coarsestScale(width: Int, height: Int) -> Int {
        if let fixed = coarsestScale { return fixed }
        let byMotion = Int(log2(Double(max(width, height)) / (4.0 * Double(patchSize))) + 0.5)
        let byPatch = Int(log2(Double(min(width, height) / patchSize)))
        return max(min(byMotion, byPatch), finestScale)
    }
}

import Foundation
