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

    /// Most pixels a resized frame may have: 8K UHD (7680×4320).
    public static let maxResizedPixels = 7680 * 4320
    /// Most a resize that keeps the aspect ratio may stretch one side over the other.
    public static let maxAspectRatio = 32

    /// Refuses a resize whose result would be huge: a valid 4000×2 picture fitted to a short side
    /// of 224 would be 448,000×224 pixels per frame. Sizes that are the source's own are not
    /// bounded (the decoder already made a frame that big).
    /// - Throws: `MediaError.unsupported` with both sizes and the bounds.
    public func checkBounds(sourceWidth w: Int, sourceHeight h: Int, path: String = "") throws {
        let geo = geometry(sourceWidth: w, sourceHeight: h)
        guard geo.scaled != (w, h) || geo.output != (w, h) else { return }
        let keepsAspect = shortSide != nil || (width == nil) != (height == nil) || resize != .stretch
        let (sw, sh) = geo.scaled
        let pixels = sw.multipliedReportingOverflow(by: sh)
        let ratio = Double(max(w, h)) / Double(max(1, min(w, h)))
        let target = shortSide.map { "short side \($0)" } ?? "\(width.map(String.init) ?? "auto")×\(height.map(String.init) ?? "auto")"
        if pixels.overflow || pixels.partialValue > Self.maxResizedPixels || (keepsAspect && ratio > Double(Self.maxAspectRatio)) {
            throw MediaError(.unsupported, operation: "resizing frames", path: path,
                             message: "a \(w)×\(h) picture resized to \(target) would be \(sw)×\(sh); Kino resizes to at most "
                                + "\(Self.maxResizedPixels / 1_000_000) megapixels and, keeping the aspect ratio, at most \(Self.maxAspectRatio):1 "
                                + "(resize to an exact width and height to stretch it instead)")
        }
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
        try format.checkBounds(sourceWidth: w, sourceHeight: h, path: path)
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

/// Runs `context` over packed 8-bit pixels (`channels` per pixel) into the planes of `frame`.
func swsScale(_ context: OpaquePointer?, from bytes: [UInt8], width: Int, height: Int, channels: Int,
              into frame: UnsafeMutablePointer<AVFrame>) {
    bytes.withUnsafeBufferPointer { src in
        var planes: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
        var strides: [Int32] = [Int32(width * channels), 0, 0, 0]
        withUnsafeMutablePointer(to: &frame.pointee.data) { d in
            withUnsafeMutablePointer(to: &frame.pointee.linesize) { l in
                d.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                    l.withMemoryRebound(to: Int32.self, capacity: 8) { dstStride in
                        _ = sws_scale(context, &planes, &strides, 0, Int32(height), dst, dstStride)
                    }
                }
            }
        }
    }
}
