import CFFmpeg

/// Maps RGB pictures onto a fixed 6×7×6 colour cube (252 colours) with 4×4 ordered dithering.
///
/// A fixed palette keeps every frame of an animation on the same colours (no palette flicker)
/// and needs no second pass; ordered dithering hides the banding.
enum GIFQuantizer {
    static let levels = (r: 6, g: 7, b: 6)

    /// The palette as 0xAARRGGBB words, padded to 256 entries.
    static let palette: [UInt32] = {
        var p: [UInt32] = []
        for r in 0..<levels.r { for g in 0..<levels.g { for b in 0..<levels.b {
            let rv = UInt32(r * 255 / (levels.r - 1)), gv = UInt32(g * 255 / (levels.g - 1)), bv = UInt32(b * 255 / (levels.b - 1))
            p.append(0xFF00_0000 | rv << 16 | gv << 8 | bv)
        } } }
        while p.count < 256 { p.append(0xFF00_0000) }
        return p
    }()

    static let bayer: [Float] = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5].map { ($0 + 0.5) / 16 - 0.5 }

    /// Writes indices into plane 0 and the palette into plane 1 of a PAL8 frame.
    static func quantize(_ input: VideoFrame, into frame: UnsafeMutablePointer<AVFrame>) {
        let w = input.width, h = input.height
        let stride = Int(frame.pointee.linesize.0)
        guard let dst = frame.pointee.data.0, let pal = frame.pointee.data.1 else { return }
        pal.withMemoryRebound(to: UInt32.self, capacity: 256) { p in
            for i in 0..<256 { p[i] = palette[i] }
        }
        let gray = input.layout == .gray8
        let sr = Float(levels.r - 1) / 255, sg = Float(levels.g - 1) / 255, sb = Float(levels.b - 1) / 255
        input.bytes.withUnsafeBufferPointer { src in
            for y in 0..<h {
                let row = dst + y * stride
                for x in 0..<w {
                    let d = bayer[(y & 3) * 4 + (x & 3)]
                    let o = gray ? y * w + x : 3 * (y * w + x)
                    let r = Float(src[o]), g = Float(src[gray ? o : o + 1]), b = Float(src[gray ? o : o + 2])
                    let ri = min(levels.r - 1, max(0, Int((r * sr + d).rounded())))
                    let gi = min(levels.g - 1, max(0, Int((g * sg + d).rounded())))
                    let bi = min(levels.b - 1, max(0, Int((b * sb + d).rounded())))
                    row[x] = UInt8((ri * levels.g + gi) * levels.b + bi)
                }
            }
        }
    }
}
