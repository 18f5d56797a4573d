import Foundation
import KinoTensor

/// `preprocessor_config.json` of a ViT image processor (HF `ViTImageProcessor`).
public struct ImageProcessorConfiguration: Codable, Sendable, Equatable {
    public var resizes: Bool
    /// Target `{"height", "width"}`.
    public var size: [String: Int]
    public var rescales: Bool
    public var rescaleFactor: Float
    public var normalises: Bool
    public var mean: [Float]
    public var standardDeviation: [Float]

    enum CodingKeys: String, CodingKey {
        case resizes = "do_resize", size, rescales = "do_rescale", rescaleFactor = "rescale_factor"
        case normalises = "do_normalize", mean = "image_mean", standardDeviation = "image_std"
    }

    /// HF's defaults, sized for `imageSize`.
    public init(imageSize: Int = 224) {
        resizes = true
        size = ["height": imageSize, "width": imageSize]
        rescales = true
        rescaleFactor = 1 / 255
        normalises = true
        mean = [0.5, 0.5, 0.5]
        standardDeviation = [0.5, 0.5, 0.5]
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ImageProcessorConfiguration()
        resizes = try c.decodeIfPresent(Bool.self, forKey: .resizes) ?? defaults.resizes
        size = try c.decodeIfPresent([String: Int].self, forKey: .size) ?? defaults.size
        rescales = try c.decodeIfPresent(Bool.self, forKey: .rescales) ?? defaults.rescales
        rescaleFactor = try c.decodeIfPresent(Float.self, forKey: .rescaleFactor) ?? defaults.rescaleFactor
        normalises = try c.decodeIfPresent(Bool.self, forKey: .normalises) ?? defaults.normalises
        mean = try c.decodeIfPresent([Float].self, forKey: .mean) ?? defaults.mean
        standardDeviation = try c.decodeIfPresent([Float].self, forKey: .standardDeviation) ?? defaults.standardDeviation
    }

    /// The folder's `preprocessor_config.json`, or defaults for `imageSize` when there is none.
    /// - Throws: ``ModelError/invalidConfiguration(path:reason:)`` for a file that does not decode.
    public static func load(directory: String, imageSize: Int) throws -> ImageProcessorConfiguration {
        let path = directory + "/preprocessor_config.json"
        guard let data = FileManager.default.contents(atPath: path) else { return ImageProcessorConfiguration(imageSize: imageSize) }
        do {
            return try JSONDecoder().decode(ImageProcessorConfiguration.self, from: data)
        } catch {
            throw ModelError.invalidConfiguration(path: path, reason: "\(error)")
        }
    }
}

/// HF `ViTImageProcessor`: resize straight to `size` (aspect not kept), `x·rescale`,
/// `(x − mean)/std`, channels first.
public struct ImagePreprocessor: Sendable {
    public var configuration: ImageProcessorConfiguration

    public init(configuration: ImageProcessorConfiguration) {
        self.configuration = configuration
    }

    /// `pixel_values` `[B, 3, H, W]` for a batch of images.
    public func pixelValues(_ images: [RGB8Image]) -> Tensor {
        let c = configuration
        let h = c.resizes ? c.size["height"] ?? c.size["shortest_edge"] ?? 224 : images[0].height
        let w = c.resizes ? c.size["width"] ?? c.size["shortest_edge"] ?? 224 : images[0].width
        var out = Tensor(zeros: [images.count, 3, h, w])
        for (b, image) in images.enumerated() {
            let resized = c.resizes ? image.resized(width: w, height: h) : image
            precondition(resized.width == w && resized.height == h, "images of a batch must share a size")
            for ch in 0..<3 {
                let scale = (c.rescales ? c.rescaleFactor : 1) / (c.normalises ? c.standardDeviation[ch] : 1)
                let shift = c.normalises ? c.mean[ch] / c.standardDeviation[ch] : 0
                let base = (b * 3 + ch) * h * w
                for i in 0..<(h * w) { out.storage[base + i] = Float(resized.pixels[i * 3 + ch]) * scale - shift }
            }
        }
        return out
    }
}

/// Pixel scaling of ViViT inputs.
public enum ViViTPixelRange: String, Sendable, CaseIterable {
    /// The original scenic recipe and HF's conversion test: `x/127.5 − 1` ∈ [−1, 1].
    case original
    /// Today's HF `VivitImageProcessor` (offset rescale, then mean/std 0.5): `x/63.75 − 3` ∈ [−3, 1].
    case huggingFace = "hf"
}

/// ViViT clip preprocessing: short side to `shortSide` (antialiased bilinear, long side
/// `int(shortSide·long/short)`), centre crop `cropSize` (`top = (h − crop)/2`), pixel scaling.
public struct VideoPreprocessor: Sendable {
    public var shortSide: Int
    public var cropSize: Int
    public var range: ViViTPixelRange

    /// Defaults to the original recipe at 256 → 224, scaled when the model's size differs.
    public init(cropSize: Int = 224, shortSide: Int? = nil, range: ViViTPixelRange = .original) {
        self.cropSize = cropSize
        self.shortSide = shortSide ?? Int((Double(cropSize) * 256 / 224).rounded())
        self.range = range
    }

    /// One clip as `[T, 3, crop, crop]` (stack clips for a batch).
    public func clip(_ frames: [RGB8Image]) -> Tensor {
        let n = cropSize * cropSize
        var out = Tensor(zeros: [frames.count, 3, cropSize, cropSize])
        let (scale, shift): (Float, Float) = range == .original ? (1 / 127.5, 1) : (1 / 63.75, 3)
        for (t, frame) in frames.enumerated() {
            let square = prepared(frame)
            for ch in 0..<3 {
                let base = (t * 3 + ch) * n
                for i in 0..<n { out.storage[base + i] = Float(square.pixels[i * 3 + ch]) * scale - shift }
            }
        }
        return out
    }

    /// Resized and centre-cropped frame.
    public func prepared(_ frame: RGB8Image) -> RGB8Image {
        let short = min(frame.width, frame.height), long = max(frame.width, frame.height)
        let scaledLong = max(cropSize, Int(Double(shortSide) * Double(long) / Double(short)))
        let side = max(shortSide, cropSize)
        let (w, h) = frame.width <= frame.height ? (side, scaledLong) : (scaledLong, side)
        let resized = frame.resized(width: w, height: h)
        return resized.cropped(left: (w - cropSize) / 2, top: (h - cropSize) / 2, width: cropSize, height: cropSize)
    }
}
