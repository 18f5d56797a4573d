import CFFmpeg
import Foundation
import KinoFiles

extension ImageFile {
    /// Writes 16-bit RGB samples (`width × height × 3`, row-major) as a 48-bit PNG, atomically.
    ///
    /// For formats that need exact 16-bit values, such as KITTI optical-flow ground truth.
    /// - Throws: `MediaError` for a wrong sample count or a failed write.
    public static func writePNG16(rgb samples: [UInt16], width: Int, height: Int, to path: String) throws {
        guard width > 0, height > 0, samples.count == width * height * 3 else {
            throw MediaError(.invalidArgument, operation: "writing a 16-bit PNG", path: path,
                             message: "\(samples.count) samples do not fill \(width)×\(height)×3")
        }
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG), var ctx = Optional(avcodec_alloc_context3(codec)), let c = ctx else {
            throw MediaError(.unsupported, operation: "writing a 16-bit PNG", path: path, message: "no PNG encoder")
        }
        defer { avcodec_free_context(&ctx) }
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_RGB48BE
        c.pointee.time_base = AVRational(num: 1, den: 1)
        try FF.check(avcodec_open2(c, codec, nil), "opening the PNG encoder", path: path)
        let picture = Frame()
        picture.pointer.pointee.format = AV_PIX_FMT_RGB48BE.rawValue
        picture.pointer.pointee.width = Int32(width)
        picture.pointer.pointee.height = Int32(height)
        try FF.check(av_frame_get_buffer(picture.pointer, 0), "allocating an image", path: path)
        let stride = Int(picture.pointer.pointee.linesize.0)
        let base = picture.pointer.pointee.data.0!
        for y in 0..<height {
            let row = base + y * stride
            for i in 0..<(width * 3) {
                let v = samples[y * width * 3 + i]
                row[2 * i] = UInt8(v >> 8)
                row[2 * i + 1] = UInt8(v & 0xFF)
            }
        }
        let data = try encodeSingle(picture, with: c, path: path)
        let temporary = AtomicFile.temporarySibling(of: path)
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw MediaError(.io, operation: "writing a 16-bit PNG", path: path, message: "cannot create the file")
        }
        try AtomicFile.moveIntoPlace(temporary, path)
    }

    /// Reads a 16-bit RGB PNG exactly: `width × height × 3` samples, row-major.
    /// - Throws: `MediaError` when the file is not a 48-bit (or 64-bit RGBA) PNG.
    public static func readPNG16(_ path: String) throws -> (width: Int, height: Int, rgb: [UInt16]) {
        let decoder = try VideoDecoder(path: path, options: VideoDecodeOptions(threads: 1, convert: false))
        guard let f = try decoder.decodeNext() else {
            throw MediaError(.corrupt, operation: "reading a 16-bit PNG", path: path, message: "no picture could be decoded")
        }
        let format = AVPixelFormat(rawValue: f.pointee.format)
        let channels: Int
        switch format {
        case AV_PIX_FMT_RGB48BE: channels = 3
        case AV_PIX_FMT_RGBA64BE: channels = 4
        default:
            let name = av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "?"
            throw MediaError(.unsupported, operation: "reading a 16-bit PNG", path: path,
                             message: "expected 16-bit RGB, found \(name)")
        }
        let w = Int(f.pointee.width), h = Int(f.pointee.height), stride = Int(f.pointee.linesize.0)
        let base = f.pointee.data.0!
        var out = [UInt16](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let row = base + y * stride
            for x in 0..<w {
                for k in 0..<3 {
                    let o = 2 * (x * channels + k)
                    out[(y * w + x) * 3 + k] = UInt16(row[o]) << 8 | UInt16(row[o + 1])
                }
            }
        }
        return (w, h, out)
    }
}
