import CFFmpeg
import Foundation
import KinoFiles

/// Still images (PNG, JPEG, and whatever else FFmpeg reads) through FFmpeg's codecs.
public enum ImageFile {
    /// Reads the first picture of `path`.
    /// - Throws: `MediaError` when the file is missing, not an image, or damaged.
    public static func read(_ path: String, format: PictureFormat = .init()) throws -> VideoFrame {
        let options = VideoDecodeOptions(width: format.width, height: format.height, shortSide: format.shortSide,
                                         resize: format.resize, layout: format.layout, threads: 1)
        let decoder = try VideoDecoder(path: path, options: options)
        guard let frame = try decoder.nextFrame() else {
            throw MediaError(.corrupt, operation: "reading an image", path: path, message: "no picture could be decoded")
        }
        return frame
    }

    /// Writes `frame` (rgb24 or gray8) as PNG or JPEG, chosen by the extension, atomically.
    /// - Parameter quality: JPEG quality 1 (worst) … 100 (best); ignored for PNG.
    public static func write(_ frame: VideoFrame, to path: String, quality: Int = 90) throws {
        let data = try encode(frame, format: URL(fileURLWithPath: path).pathExtension.lowercased(), quality: quality, path: path)
        let temporary = AtomicFile.temporarySibling(of: path)
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw MediaError(.io, operation: "writing an image", path: path, message: "cannot create the file")
        }
        try AtomicFile.moveIntoPlace(temporary, path)
    }

    /// Encodes `frame` to PNG or JPEG bytes.
    public static func encode(_ frame: VideoFrame, format: String, quality: Int = 90, path: String = "") throws -> Data {
        let isPNG: Bool
        switch format {
        case "png": isPNG = true
        case "jpg", "jpeg": isPNG = false
        default:
            throw MediaError(.invalidArgument, operation: "writing an image", path: path, message: "unknown image extension '.\(format)' (use .png or .jpg)")
        }
        guard frame.layout != .rgbPlanarFloat, frame.bytes.count == frame.width * frame.height * frame.layout.channels,
              frame.width > 0, frame.height > 0 else {
            throw MediaError(.invalidArgument, operation: "writing an image", path: path, message: "expected rgb24 or gray8 pixels")
        }
        guard let codec = avcodec_find_encoder(isPNG ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG),
              var ctx = Optional(avcodec_alloc_context3(codec)), let c = ctx else {
            throw MediaError(.unsupported, operation: "writing an image", path: path, message: "no encoder")
        }
        defer { avcodec_free_context(&ctx) }
        let srcFormat = frame.layout == .gray8 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24
        let dstFormat = isPNG ? srcFormat : AV_PIX_FMT_YUVJ420P
        c.pointee.width = Int32(frame.width)
        c.pointee.height = Int32(frame.height)
        c.pointee.pix_fmt = dstFormat
        c.pointee.time_base = AVRational(num: 1, den: 25)
        if !isPNG {
            // MJPEG quality is a quantiser scale: 2 (best) … 31 (worst).
            let q = 2 + (100 - min(100, max(1, quality))) * 29 / 99
            c.pointee.flags |= AV_CODEC_FLAG_QSCALE
            c.pointee.global_quality = Int32(q) * FF_QP2LAMBDA
            c.pointee.color_range = AVCOL_RANGE_JPEG
        }
        try FF.check(avcodec_open2(c, codec, nil), "opening the image encoder", path: path)
        let picture = Frame()
        picture.pointer.pointee.format = dstFormat.rawValue
        picture.pointer.pointee.width = c.pointee.width
        picture.pointer.pointee.height = c.pointee.height
        picture.pointer.pointee.quality = c.pointee.global_quality
        try FF.check(av_frame_get_buffer(picture.pointer, 0), "allocating an image", path: path)
        let sws = sws_getContext(c.pointee.width, c.pointee.height, srcFormat, c.pointee.width, c.pointee.height, dstFormat,
                                 SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nil, nil, nil)
        defer { sws_freeContext(sws) }
        swsScale(sws, from: frame.bytes, width: frame.width, height: frame.height, channels: frame.layout.channels,
                 into: picture.pointer)
        return try encodeSingle(picture, with: c, path: path)
    }

    /// Sends one picture through an opened still-image encoder and returns the bytes it makes.
    static func encodeSingle(_ picture: Frame, with c: UnsafeMutablePointer<AVCodecContext>, path: String) throws -> Data {
        try FF.check(avcodec_send_frame(c, picture.pointer), "encoding an image", path: path)
        try FF.check(avcodec_send_frame(c, nil), "encoding an image", path: path)
        let packet = Packet()
        var data = Data()
        while avcodec_receive_packet(c, packet.pointer) >= 0 {
            data.append(packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size))
            packet.unref()
        }
        return data
    }
}
