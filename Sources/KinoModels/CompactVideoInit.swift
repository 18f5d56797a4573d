// Initialising a compact factorised encoder (kino-cct-video) from a compact one trained on still
// images: the recipe ViViT uses with an image ViT (scenic's initialise_from_train_state, here
// for Kino's CCT stream), so that the spatial encoder starts as an image model and can be frozen.
import Foundation
import KinoTensor

/// Where the temporal transformer of a ``CompactVideoInitialiser`` starts.
public enum TemporalInit: String, Sendable, CaseIterable {
    /// CCT's initialisation (``CompactInitialiser``).
    case random
    /// Copies of the image model's last spatial blocks and its spatial final norm (the image model
    /// needs at least as many spatial as the new model has temporal blocks).
    case spatial
    /// The image model's own temporal blocks, norm and class token (the same number of blocks);
    /// the time-step rows of the position table are new, the class token's row is copied.
    case image
}

/// A ``WeightSource`` for a kino-cct-video model whose spatial stream is a kino-cct-video
/// model trained on still images (every frame of a clip the same picture).
///
/// Every `spatial.*` tensor is the image model's, except the first tokenizer kernel
/// `[C₁, kt·3, k, k]`: on a still, the image model's kernel acts as the sum `W₂` of its per-frame
/// slices, and that 2-D kernel is inflated as ``TubeletKernelInit`` says (central frame:
/// `W₂` at frame `kt / 2`, zeros elsewhere, so the spatial stream is exactly the image model on
/// frames `kt/2, kt/2 + kt, …`; average: `W₂ / kt` at every frame). The temporal side follows
/// ``TemporalInit``; the head and the feature adapter are always new.
public final class CompactVideoInitialiser: WeightSource {
    let image: any WeightSource
    let imageConfiguration: CompactVideoConfiguration
    let target: CompactVideoConfiguration
    let fresh: CompactInitialiser
    let kernelInit: TubeletKernelInit
    let temporalInit: TemporalInit

    /// - Throws: ``ModelError/invalidConfiguration(path:reason:)`` naming the first field in which
    ///   the image model's spatial stream differs from `target`'s.
    public init(image: any WeightSource, imageConfiguration: CompactVideoConfiguration, target: CompactVideoConfiguration,
                kernelInit: TubeletKernelInit, temporalInit: TemporalInit, seed: UInt64, path: String) throws {
        let (a, b) = (imageConfiguration, target)
        let fields: [(String, Bool)] = [
            ("hidden_size", a.common.hiddenSize == b.common.hiddenSize),
            ("num_hidden_layers", a.common.numberOfLayers == b.common.numberOfLayers),
            ("num_attention_heads", a.common.numberOfHeads == b.common.numberOfHeads),
            ("intermediate_size", a.common.intermediateSize == b.common.intermediateSize),
            ("image_size", a.imageSize == b.imageSize),
            ("num_channels", a.numberOfChannels == b.numberOfChannels),
            ("tokenizer_channels", a.tokenizerChannels == b.tokenizerChannels),
            ("tokenizer_kernel", a.tokenizerKernel == b.tokenizerKernel),
            ("tokenizer_stride", a.tokenizerStride == b.tokenizerStride),
        ]
        if let field = fields.first(where: { !$0.1 })?.0 {
            throw ModelError.invalidConfiguration(path: path, reason: "\(field) differs from the model being initialised")
        }
        switch temporalInit {
        case .spatial where a.common.numberOfLayers < b.temporalLayers:
            throw ModelError.invalidConfiguration(
                path: path, reason: "\(a.common.numberOfLayers) spatial blocks cannot seed \(b.temporalLayers) temporal ones")
        case .image where a.temporalLayers != b.temporalLayers:
            throw ModelError.invalidConfiguration(
                path: path, reason: "num_temporal_layers \(a.temporalLayers) differs from the model's \(b.temporalLayers)")
        default: break
        }
        self.image = image
        self.imageConfiguration = a
        self.target = b
        self.fresh = CompactInitialiser(seed: seed)
        self.kernelInit = kernelInit
        self.temporalInit = temporalInit
    }

    public func contains(_ key: String, prefixed: Bool) -> Bool { true }
    public func storedKey(_ key: String, prefixed: Bool) -> String { key }

    public func tensor(_ key: String, shape: [Int], prefixed: Bool, role: WeightRole) throws -> Tensor {
        if key == "spatial.tokenizer.0.weight" { return try inflatedKernel(shape) }
        if key.hasPrefix("spatial.") { return try image.tensor(key, shape: shape, prefixed: false, role: role) }
        let blocks = "temporal.encoder.layer."
        switch temporalInit {
        case .random: break
        case .spatial:
            if key.hasPrefix(blocks) {
                let rest = key.dropFirst(blocks.count)
                let dot = rest.firstIndex(of: ".")!
                let i = Int(rest[..<dot])!
                let source = imageConfiguration.common.numberOfLayers - target.temporalLayers + i
                return try image.tensor("spatial.encoder.layer.\(source)" + rest[dot...], shape: shape, prefixed: false, role: role)
            }
            if key.hasPrefix("temporal.layernorm.") {
                return try image.tensor("spatial." + key.dropFirst("temporal.".count), shape: shape, prefixed: false, role: role)
            }
        case .image:
            if key.hasPrefix(blocks) || key.hasPrefix("temporal.layernorm.") || key == "temporal.cls_token" {
                return try image.tensor(key, shape: shape, prefixed: false, role: role)
            }
            if key == "temporal.position_embeddings" {
                let d = shape[2]
                let old = try image.tensor(key, shape: [1, 1 + imageConfiguration.timeSteps, d], prefixed: false, role: role)
                var t = try fresh.tensor(key, shape: shape, prefixed: false, role: role)
                for j in 0..<d { t.storage[j] = old.storage[j] }
                return t
            }
        }
        return try fresh.tensor(key, shape: shape, prefixed: false, role: role)
    }

    /// `[C₁, kt·C, k, k]` from the image model's `[C₁, kt'·C, k, k]` (frame-major channels).
    private func inflatedKernel(_ shape: [Int]) throws -> Tensor {
        let (out, k) = (shape[0], shape[2] * shape[3])
        let channels = target.numberOfChannels
        let (kt, ktImage) = (target.tubeletFrames, imageConfiguration.tubeletFrames)
        let old = try image.tensor("spatial.tokenizer.0.weight", shape: [out, ktImage * channels, shape[2], shape[3]],
                                   prefixed: false, role: .matrix)
        var result = Tensor(zeros: shape)
        for o in 0..<out {
            for ch in 0..<channels {
                var summed = [Float](repeating: 0, count: k)
                for f in 0..<ktImage {
                    let base = (o * ktImage * channels + f * channels + ch) * k
                    for i in 0..<k { summed[i] += old.storage[base + i] }
                }
                for f in 0..<kt {
                    let weight: Float = switch kernelInit {
                    case .centralFrame: f == kt / 2 ? 1 : 0
                    case .average: 1 / Float(kt)
                    }
                    guard weight != 0 else { continue }
                    let base = (o * kt * channels + f * channels + ch) * k
                    for i in 0..<k { result.storage[base + i] = summed[i] * weight }
                }
            }
        }
        return result
    }
}

extension CompactVideoTransformer {
    /// A kino-cct-video model of `configuration` whose spatial stream (and, per `temporalInit`,
    /// temporal transformer) comes from the kino-cct-video folder `imageModel`, trained on stills.
    /// - Throws: ``ModelError`` for unreadable or mismatched folders.
    public static func initialised(configuration: CompactVideoConfiguration, fromImageModel directory: String,
                                   kernelInit: TubeletKernelInit = .centralFrame, temporalInit: TemporalInit = .random,
                                   seed: UInt64 = 0) throws -> CompactVideoTransformer {
        let type = try ModelRegistry.modelType(directory: directory)
        guard type == CompactVideoConfiguration.modelType else {
            throw ModelError.invalidConfiguration(path: directory + "/config.json",
                                                  reason: "model_type \(type): the image model must be a \(CompactVideoConfiguration.modelType)")
        }
        let imageConfiguration = try ModelRegistry.decode(CompactVideoConfiguration.self, directory: directory)
        let weights = try ModelError.funnel { try CheckpointWeights(path: directory + "/model.safetensors", prefix: "") }
        let source = try CompactVideoInitialiser(image: weights, imageConfiguration: imageConfiguration, target: configuration,
                                                 kernelInit: kernelInit, temporalInit: temporalInit, seed: seed,
                                                 path: directory + "/config.json")
        return try CompactVideoTransformer(configuration: configuration, weights: source)
    }
}
