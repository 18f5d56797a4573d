import CFFmpeg

/// Output geometry and layout for decoded pictures.
public struct PictureFormat: Sendable, Hashable {
    /// Target width; nil keeps the source width (or follows `height` keeping aspect).
    public var width: Int?
    /// Target height; nil keeps the source height (or follows `width` keeping aspect).
    public var height: Int?
    /// When set, scale so the short side equals this (ignores width/height).
    public var shortSide: Int?
    public var resize: ResizeMode
    public var layout: PixelLayout

    public init(width: Int? = nil, height: Int? = nil, shortSide: Int? = nil,
                resize: ResizeMode = .stretch, layout: PixelLayout = .rgb24) {
        self.width = width
        self.height = height
        self.shortSide = shortSide
        self.resize = resize
        self.layout = layout
    }

    /// The scaled size before any crop, and the final size, for a source of `w`×`h`.
    public func geometry(sourceWidth w: Int, sourceHeight h: Int) -> (scaled: (Int, Int), output: (Int, Int)) {
        if let s = shortSide {
            let f = Double(s) / Double(min(w, h))
            let sw = w <= h ? s : max(1, Int((Double(w) * f).rounded()))
            let sh = h < w ? s : max(1, Int((Double(h) * f).rounded()))
            return ((sw, sh), (sw, sh))
        }
        switch (width, height) {
        case (nil, nil): return ((w, h), (w, h))
        case let (tw?, nil):
            let th = max(1, Int((Double(h) * Double(tw) / Double(w)).rounded()))
            return ((tw, th), (tw, th))
        case let (nil, th?):
            let tw = max(1, Int((Double(w) * Double(th) / Double(h)).rounded()))
            return ((tw, th), (tw, th))
        case let (tw?, th?):
            switch resize {
            case .stretch: return ((tw, th), (tw, th))
            case .shortSideCrop:
                let f = max(Double(tw) / Double(w), Double(th) / Double(h))
                let sw = max(tw, Int((Double(w) * f).rounded())), sh = max(th, Int((Double(h) * f).rounded()))
                return ((sw, sh), (tw, th))
            case .fit:
                let f = min(Double(tw) / Double(w), Double(th) / Double(h))
                let sw = max(1, Int((Double(w) * f).rounded())), sh = max(1, Int((Double(h) * f).rounded()))
                return ((sw, sh), (sw, sh))
            }
        }
    }
}

/// Converts decoded `AVFrame`s to Kino's layouts with libswscale, caching the context.
final class Scaler {
    private var context: OpaquePointer?
    private var buffer: [UInt8] = []

    deinit { sws_freeContext(context) }

    /// Converts `frame` to `format`, returning bytes or floats in a `VideoFrame`-ready form.
    func convert(_ frame: UnsafePointer<AVFrame>, to format: PictureFormat, path: String)
        throws -> (width: Int, height: Int, bytes: [UInt8], floats: [Float]) {
        let src = frame.pointee
        let w = Int(src.width), h = Int(src.height)
        guard w > 0, h > 0 else {
            throw MediaError(.corrupt, operation: "converting a frame", path: path, message: "frame has no size")
        }
        let geo = format.geometry(sourceWidth: w, sourceHeight: h)
        let (sw, sh) = geo.scaled
        let (ow, oh) = geo.output
        let channels = format.layout.channels
        let dstFormat = channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24
        context = sws_getCachedContext(context, Int32(w), Int32(h), AVPixelFormat(rawValue: src.format),
                                       Int32(sw), Int32(sh), dstFormat,
                                       SWS_BILINEAR, nil, nil, nil)
        guard let context else {
            throw MediaError(.unsupported, operation: "converting a frame", path: path,
                             message: "swscale cannot convert this pixel format")
        }
        let stride = sw * channels
        if buffer.count != stride * sh { buffer = [UInt8](repeating: 0, count: stride * sh) }
        let code = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
            var dst: [UnsafeMutablePointer<UInt8>?] = [out.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(stride), 0, 0, 0]
            return withUnsafePointer(to: src.data) { dataTuple in
                withUnsafePointer(to: src.linesize) { lineTuple in
                    dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { data in
                        lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                            sws_scale(context, data, lines, 0, Int32(h), &dst, &dstStride)
                        }
                    }
                }
            }
        }
        if code < 0 { throw FF.error(code, "converting a frame", path: path) }

        // Centre crop when the scaled picture is larger than the output.
        var bytes: [UInt8]
        if sw == ow && sh == oh {
            bytes = buffer
        } else {
            let x0 = (sw - ow) / 2, y0 = (sh - oh) / 2
            bytes = [UInt8](repeating: 0, count: ow * oh * channels)
            bytes.withUnsafeMutableBufferPointer { out in
                buffer.withUnsafeBufferPointer { inp in
                    for y in 0..<oh {
                        let from = inp.baseAddress! + (y + y0) * stride + x0 * channels
                        (out.baseAddress! + y * ow * channels).update(from: from, count: ow * channels)
                    }
                }
            }
        }
        guard format.layout == .rgbPlanarFloat else { return (ow, oh, bytes, []) }
        return (ow, oh, [], Self.planarFloats(bytes, width: ow, height: oh))
    }

    /// Interleaved RGB bytes to planar floats in [0, 1].
    static func planarFloats(_ rgb: [UInt8], width: Int, height: Int) -> [Float] {
        let plane = width * height
        var out = [Float](repeating: 0, count: plane * 3)
        out.withUnsafeMutableBufferPointer { o in
            rgb.withUnsafeBufferPointer { p in
                let scale: Float = 1 / 255
                for i in 0..<plane {
                    o[i] = Float(p[3 * i]) * scale
                    o[plane + i] = Float(p[3 * i + 1]) * scale
                    o[2 * plane + i] = Float(p[3 * i + 2]) * scale
                }
            }
        }
        return out
    }
}
