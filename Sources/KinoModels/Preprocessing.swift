import Foundation
import KinoTensor

/// `preprocessor_config.json` of a ViT image processor (HF `ViTImageProcessor`), or of the
/// `VideoMAEImageProcessor` VideoMAE and TimeSformer checkpoints ship (which adds the crop).
public struct ImageProcessorConfiguration: Codable, Sendable, Equatable {
    public var resizes: Bool
    /// Target `{"height", "width"}`, or `{"shortest_edge"}` (VideoMAEImageProcessor).
    public var size: [String: Int]
    public var rescales: Bool
    public var rescaleFactor: Float
    public var normalises: Bool
    public var mean: [Float]
    public var standardDeviation: [Float]
    /// `do_center_crop` (VideoMAEImageProcessor); nil where the processor has no crop.
    public var centreCrops: Bool?
    /// `crop_size` `{"height", "width"}` (VideoMAEImageProcessor).
    public var cropSize: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case resizes = "do_resize", size, rescales = "do_rescale", rescaleFactor = "rescale_factor"
        case normalises = "do_normalize", mean = "image_mean", standardDeviation = "image_std"
        case centreCrops = "do_center_crop", cropSize = "crop_size"
    }

    /// ImageNet's channel mean and standard deviation (transformers' `IMAGENET_DEFAULT_MEAN`/`_STD`).
    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imageNetStandardDeviation: [Float] = [0.229, 0.224, 0.225]

    /// What the published VideoMAE checkpoints' `preprocessor_config.json` holds (shortest edge
    /// and crop `imageSize`, rescale 1/255, ImageNet mean and std), for a folder without one.
    /// VideoMAEImageProcessor's own defaults are mean and std 0.5 (`IMAGENET_STANDARD_*`, what
    /// transformers' conversion scripts checked the logits with); a file that leaves the fields
    /// out gets those, as in transformers.
    public static func videoMAE(imageSize: Int = 224) -> ImageProcessorConfiguration {
        var c = ImageProcessorConfiguration(imageSize: imageSize)
        c.size = ["shortest_edge": imageSize]
        c.mean = imageNetMean
        c.standardDeviation = imageNetStandardDeviation
        c.centreCrops = true
        c.cropSize = ["height": imageSize, "width": imageSize]
        return c
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
        centreCrops = try c.decodeIfPresent(Bool.self, forKey: .centreCrops)
        cropSize = try c.decodeIfPresent([String: Int].self, forKey: .cropSize)
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

/// Per-channel `x·scale − shift` on 8-bit values: a processor's rescale and `(x − mean)/std`
/// folded into one multiply-add, as ``ImagePreprocessor`` applies them.
public struct ChannelNormalisation: Sendable, Equatable {
    public var scale: [Float]
    public var shift: [Float]

    /// `rescale` (1 when the processor does not rescale), then mean and std (none when it does not
    /// normalise), three channels each.
    public init(rescale: Float, mean: [Float]?, standardDeviation: [Float]?) {
        let std = standardDeviation ?? [1, 1, 1], m = mean ?? [0, 0, 0]
        scale = std.map { rescale / $0 }
        shift = zip(m, std).map { $0 / $1 }
    }
}

/// Clip preprocessing: short side to `shortSide` (antialiased bilinear, long side
/// `int(shortSide·long/short)`), centre crop `cropSize` (`top = (h − crop)/2`), pixel scaling:
/// ViViT's ``ViViTPixelRange``, or the per-channel ``normalisation`` of a VideoMAE-style
/// `preprocessor_config.json` (``load(directory:cropSize:)``).
public struct VideoPreprocessor: Sendable {
    public var shortSide: Int
    public var cropSize: Int
    public var range: ViViTPixelRange
    /// Rescale and mean/std per channel; when set it replaces `range`.
    public var normalisation: ChannelNormalisation?
    /// Straight to this `[height, width]` (aspect not kept) before the crop, instead of the short
    /// side: a processor whose `size` is `{height, width}`.
    public var exactSize: [Int]?

    /// Defaults to the original recipe at 256 → 224, scaled when the model's size differs.
    public init(cropSize: Int = 224, shortSide: Int? = nil, range: ViViTPixelRange = .original) {
        self.cropSize = cropSize
        self.shortSide = shortSide ?? Int((Double(cropSize) * 256 / 224).rounded())
        self.range = range
    }

    /// HF `VideoMAEImageProcessor` as `configuration` sets it up, cropping to `cropSize` (the
    /// model's `image_size`). The crop is always taken: without it a non-square frame could not
    /// reach the model's square input.
    /// - Parameter path: names the file in errors.
    /// - Throws: ``ModelError/invalidConfiguration(path:reason:)`` for a `crop_size` other than
    ///   `cropSize`, a `size` with neither `shortest_edge` nor `height` and `width`, `do_resize`
    ///   false, or means and standard deviations that are not three positive-std channels.
    public init(videoProcessor c: ImageProcessorConfiguration, cropSize: Int,
                path: String = "preprocessor_config.json") throws {
        func invalid(_ reason: String) -> ModelError { .invalidConfiguration(path: path, reason: reason) }
        self.init(cropSize: cropSize, shortSide: cropSize)
        if let crop = c.cropSize, crop["height"] != cropSize || crop["width"] != cropSize {
            throw invalid("crop_size \(crop.sorted { $0.key < $1.key }) does not match the model's image_size \(cropSize)")
        }
        guard c.resizes else { throw invalid("do_resize false is not supported for clips") }
        if let edge = c.size["shortest_edge"] {
            guard edge >= 1 else { throw invalid("size shortest_edge is \(edge)") }
            shortSide = edge
        } else if let h = c.size["height"], let w = c.size["width"] {
            guard h >= cropSize, w >= cropSize else { throw invalid("size \(h)×\(w) is smaller than the crop \(cropSize)") }
            exactSize = [h, w]
        } else {
            throw invalid("size needs shortest_edge, or height and width")
        }
        if c.normalises {
            guard c.mean.count == 3, c.standardDeviation.count == 3, c.standardDeviation.allSatisfy({ $0 > 0 }) else {
                throw invalid("image_mean and image_std need 3 channels each, std positive (found \(c.mean), \(c.standardDeviation))")
            }
        }
        normalisation = ChannelNormalisation(rescale: c.rescales ? c.rescaleFactor : 1,
                                             mean: c.normalises ? c.mean : nil,
                                             standardDeviation: c.normalises ? c.standardDeviation : nil)
    }

    /// The clip preprocessing of the VideoMAE or TimeSformer checkpoint in `directory`: its
    /// `preprocessor_config.json` (mean, std, rescale, resize), or, without one,
    /// ``ImageProcessorConfiguration/videoMAE(imageSize:)`` (ImageNet mean and std, short side and
    /// crop `cropSize`).
    /// - Throws: ``ModelError/invalidConfiguration(path:reason:)`` for a file that does not decode
    ///   or does not fit (see ``init(videoProcessor:cropSize:path:)``).
    public static func load(directory: String, cropSize: Int) throws -> VideoPreprocessor {
        let path = directory + "/preprocessor_config.json"
        let configuration = FileManager.default.fileExists(atPath: path)
            ? try ImageProcessorConfiguration.load(directory: directory, imageSize: cropSize)
            : .videoMAE(imageSize: cropSize)
        return try VideoPreprocessor(videoProcessor: configuration, cropSize: cropSize, path: path)
    }

    /// The clip preprocessing `model` (loaded from `directory`) expects: the folder's processor
    /// for a ``VideoMAEProcessedClassifier``, ViViT's `range` scaling at 256 → 224 proportions
    /// for the other clip models.
    /// - Throws: as ``load(directory:cropSize:)``.
    public static func forModel(_ model: any KinoModel, directory: String,
                                range: ViViTPixelRange = .original) throws -> VideoPreprocessor {
        let size = model.sampleShape.last ?? 224
        if model is any VideoMAEProcessedClassifier { return try load(directory: directory, cropSize: size) }
        return VideoPreprocessor(cropSize: size, range: range)
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
                let (a, b) = normalisation.map { ($0.scale[ch], $0.shift[ch]) } ?? (scale, shift)
                for i in 0..<n { out.storage[base + i] = Float(square.pixels[i * 3 + ch]) * a - b }
            }
        }
        return out
    }

    /// Resized and centre-cropped frame.
    public func prepared(_ frame: RGB8Image) -> RGB8Image {
        if let exactSize {
            let (h, w) = (exactSize[0], exactSize[1])
            return frame.resized(width: w, height: h)
                .cropped(left: (w - cropSize) / 2, top: (h - cropSize) / 2, width: cropSize, height: cropSize)
        }
        let short = min(frame.width, frame.height), long = max(frame.width, frame.height)
        let scaledLong = max(cropSize, Int(Double(shortSide) * Double(long) / Double(short)))
        let side = max(shortSide, cropSize)
        let (w, h) = frame.width <= frame.height ? (side, scaledLong) : (scaledLong, side)
        let resized = frame.resized(width: w, height: h)
        return resized.cropped(left: (w - cropSize) / 2, top: (h - cropSize) / 2, width: cropSize, height: cropSize)
    }
}

/// Which frames make one clip: `frames` of them, `stride` apart.
public struct FrameSampling: Sendable, Equatable {
    public var frames: Int
    public var stride: Int

    public init(frames: Int, stride: Int) {
        self.frames = frames
        self.stride = stride
    }

    /// The clip's frame indices from `start`, as transformers' `VideoClassificationPipeline`
    /// (4.46.3) picks them: `linspace(start, start + frames·stride − 1, frames)` truncated to
    /// integers. For stride 1 that is `start, start + 1, …`; for larger strides the steps are
    /// `(frames·stride − 1)/(frames − 1)` (16 frames at stride 4: 0, 4, 8, 12, 16, 21, …, 63).
    public func indices(start: Int = 0) -> [Int] {
        guard frames > 1 else { return frames == 1 ? [start] : [] }
        let stop = Double(start + frames * stride - 1), first = Double(start)
        let step = (stop - first) / Double(frames - 1)
        return (0..<frames).map { $0 == frames - 1 ? Int(stop) : Int(Double($0) * step + first) }
    }
}
