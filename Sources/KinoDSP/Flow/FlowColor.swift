/// Middlebury colour coding of flow (Baker et al., ICCV 2007): hue = direction, saturation = speed.
///
/// A 55-colour wheel (red → yellow → green → cyan → blue → magenta); zero motion is white,
/// vectors at the normalisation radius are fully saturated, longer ones are darkened to 75 %.
/// Pass a fixed `maxRadius` for video so colours mean the same speed in every frame.
public enum FlowColor {
    /// The 55 wheel colours (RGB 0…255), segment lengths RY 15, YG 6, GC 4, CB 11, BM 13, MR 6.
    public static let wheel: [SIMD3<Float>] = {
        var c = [SIMD3<Float>]()
        func ramp(_ n: Int, _ i: Int) -> Float { (255 * Float(i) / Float(n)).rounded(.down) }
        for i in 0..<15 { c.append(SIMD3(255, ramp(15, i), 0)) }
        for i in 0..<6 { c.append(SIMD3(255 - ramp(6, i), 255, 0)) }
        for i in 0..<4 { c.append(SIMD3(0, 255, ramp(4, i))) }
        for i in 0..<11 { c.append(SIMD3(0, 255 - ramp(11, i), 255)) }
        for i in 0..<13 { c.append(SIMD3(ramp(13, i), 0, 255)) }
        for i in 0..<6 { c.append(SIMD3(255, 0, 255 - ramp(6, i))) }
        return c
    }()

    /// Colour of a vector already divided by the normalisation radius. Unknown vectors are black.
    public static func color(u: Float, v: Float) -> SIMD3<UInt8> {
        guard u.isFinite, v.isFinite, abs(u) < 1e9, abs(v) < 1e9 else { return .zero }
        let n = wheel.count
        let radius = (u * u + v * v).squareRoot()
        let angle = atan2(-v, -u) / Float.pi
        // Float.pi is rounded toward zero, so |atan2| can exceed it by an ulp: clamp into the wheel.
        let fk = min(max((angle + 1) / 2 * Float(n - 1), 0), Float(n - 1))
        let k0 = Int(fk.rounded(.down))
        let k1 = (k0 + 1) % n
        let f = fk - Float(k0)
        var col = ((1 - f) * wheel[k0] + f * wheel[k1]) / 255
        if radius <= 1 { col = 1 - radius * (1 - col) } else { col *= 0.75 }
        let bytes = (255 * col).rounded(.down)
        return SIMD3(UInt8(bytes.x), UInt8(bytes.y), UInt8(bytes.z))
    }

    /// Largest finite vector length in a field (the per-frame normalisation radius).
    public static func maxRadius(of flow: FlowField) -> Float {
        var m: Float = 0
        for i in 0..<(flow.width * flow.height) {
            let u = flow.uv[2 * i], v = flow.uv[2 * i + 1]
            if u.isFinite, v.isFinite, abs(u) < 1e9, abs(v) < 1e9 { m = max(m, (u * u + v * v).squareRoot()) }
        }
        return m
    }

    /// RGB bytes (`width × height × 3`) of a flow field.
    ///
    /// - Parameters:
    ///   - flow: the field to draw.
    ///   - maxRadius: the speed drawn fully saturated; nil uses the field's own maximum, which
    ///     flickers in video — pass a fixed value there.
    public static func render(_ flow: FlowField, maxRadius: Float? = nil) -> [UInt8] {
        let scale = 1 / max(maxRadius ?? FlowColor.maxRadius(of: flow), 1e-5)
        var out = [UInt8](repeating: 0, count: flow.width * flow.height * 3)
        for i in 0..<(flow.width * flow.height) {
            let c = color(u: flow.uv[2 * i] * scale, v: flow.uv[2 * i + 1] * scale)
            out[3 * i] = c.x; out[3 * i + 1] = c.y; out[3 * i + 2] = c.z
        }
        return out
    }

    /// A square legend (`size × size × 3` RGB): the colour of every direction and speed up to the
    /// normalisation radius at the rim; outside the disc is white.
    public static func legend(size: Int) -> [UInt8] {
        precondition(size > 0, "legend size must be positive")
        var out = [UInt8](repeating: 255, count: size * size * 3)
        let c = Float(size - 1) / 2
        for y in 0..<size {
            for x in 0..<size {
                let u = (Float(x) - c) / max(c, 1), v = (Float(y) - c) / max(c, 1)
                guard u * u + v * v <= 1 else { continue }
                let col = color(u: u, v: v), i = 3 * (y * size + x)
                out[i] = col.x; out[i + 1] = col.y; out[i + 2] = col.z
            }
        }
        return out
    }
}

import Foundation
