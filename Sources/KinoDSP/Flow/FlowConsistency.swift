/// Forward-backward consistency: where the backward flow does not undo the forward flow, the
/// pixel is occluded, left the frame, or the estimate is wrong.
///
/// For pixel p with forward vector w, the backward vector ŵ is sampled (bilinearly) at p + w.
/// The pair is inconsistent when `|w + ŵ|² > 0.01·(|w|² + |ŵ|²) + 0.5` (Sundaram, Brox, Keutzer,
/// ECCV 2010); the relative term tolerates larger errors on fast motion.
public struct FlowConsistency: Sendable, Equatable {
    /// True where the pixel failed the check or its target left the frame.
    public var occluded: [Bool]
    /// Per-pixel confidence in 0…1: `exp(−|w + ŵ|² / τ)` with τ the check's threshold at that pixel;
    /// 0 where the target left the frame.
    public var confidence: [Float]
    public let width: Int
    public let height: Int

    /// Checks a forward field against the backward field of the same pair.
    ///
    /// - Throws: ``FlowError/sizeMismatch(expected:got:)`` when the fields differ in size.
    public init(forward: FlowField, backward: FlowField, relative: Float = 0.01, absolute: Float = 0.5) throws {
        guard forward.width == backward.width, forward.height == backward.height else {
            throw FlowError.sizeMismatch(expected: "\(forward.width)×\(forward.height)",
                                         got: "\(backward.width)×\(backward.height)")
        }
        width = forward.width
        height = forward.height
        occluded = [Bool](repeating: true, count: width * height)
        confidence = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let w = forward[x, y]
                let tx = Float(x) + w.x, ty = Float(y) + w.y
                guard tx >= 0, ty >= 0, tx <= Float(width - 1), ty <= Float(height - 1) else { continue }
                let back = backward.sample(x: tx, y: ty)
                let e = w + back
                let err = (e * e).sum()
                let tau = relative * ((w * w).sum() + (back * back).sum()) + absolute
                occluded[i] = err > tau
                confidence[i] = exp(-err / tau)
            }
        }
    }

    /// A copy of `flow` with occluded vectors set to the `.flo` "unknown" value (1e10), so writers
    /// and ``MotionStatistics`` skip them.
    public func masking(_ flow: FlowField) -> FlowField {
        var out = flow
        for i in 0..<(width * height) where occluded[i] {
            out.uv[2 * i] = 1e10
            out.uv[2 * i + 1] = 1e10
        }
        return out
    }
}

import Foundation
