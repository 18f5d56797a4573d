// Initialising the factorised encoder from an image ViT, as scenic's
// vivit/model_utils.py initialise_from_train_state does (central-frame or average kernel).
import Foundation
import KinoTensor

/// How a 2-D patch kernel becomes a 3-D tubelet kernel.
public enum TubeletKernelInit: String, Sendable, CaseIterable {
    /// Zeros except time index `kt / 2`, which gets the 2-D kernel (scenic `central_frame_initializer`).
    case centralFrame = "central-frame"
    /// The 2-D kernel at every time index, divided by `kt` (scenic `average_frame_initializer`).
    case average
}

/// A ``WeightSource`` that builds factorised-encoder weights from a Hugging Face ViT
/// checkpoint, a temporal source, and scenic's initialisers for whatever is left.
///
/// `spatial.*` comes from the ViT (`embeddings.*`, `encoder.*`, `layernorm.*`, prefix `vit.`
/// optional); the tubelet kernel is inflated per ``TubeletKernelInit``. `temporal.*` comes from
/// `temporal` when it has the key, else: CLS zeros, positions N(0, 0.02), dense kernels
/// Xavier-uniform, MLP biases N(0, 1e-6), other biases zero, norms identity. The classifier is
/// zero, as scenic's `output_projection` — logits are all zero until it is trained.
public final class FactorisedInitialiser: WeightSource {
    let vit: any WeightSource
    let temporal: (any WeightSource)?
    let kernelInit: TubeletKernelInit
    private var generator: SplitMix64Source

    public init(vit: any WeightSource, temporal: (any WeightSource)? = nil,
                kernelInit: TubeletKernelInit = .centralFrame, seed: UInt64 = 0) {
        self.vit = vit
        self.temporal = temporal
        self.kernelInit = kernelInit
        self.generator = SplitMix64Source(seed: seed)
    }

    public func contains(_ key: String, prefixed: Bool) -> Bool { true }

    public func storedKey(_ key: String, prefixed: Bool) -> String { key }

    public func tensor(_ key: String, shape: [Int], prefixed: Bool, role: WeightRole) throws -> Tensor {
        if key.hasPrefix("spatial.") {
            let inner = String(key.dropFirst("spatial.".count))
            if inner == "embeddings.patch_embeddings.projection.weight" { return try inflatedKernel(shape) }
            return try vit.tensor(inner, shape: shape, prefixed: true, role: role)
        }
        if key.hasPrefix("temporal."), let temporal, temporal.contains(key, prefixed: false) {
            return try temporal.tensor(key, shape: shape, prefixed: false, role: role)
        }
        if key.hasPrefix("classifier.") || key.hasSuffix("cls_token") { return Tensor(zeros: shape) }
        if key.hasSuffix("position_embeddings") { return normal(shape, 0.02) }
        if role == .normScale { return Tensor(repeating: 1, shape: shape) }
        if role == .matrix { return xavierUniform(shape) }
        if key.contains("layernorm") { return Tensor(zeros: shape) }
        let isMLPBias = key.contains("intermediate.dense") || key.contains(".output.dense") && !key.contains("attention")
        return isMLPBias ? normal(shape, 1e-6) : Tensor(zeros: shape)
    }

    /// `[D, C, kt, p, p]` from the ViT's `[D, C, p, p]`.
    private func inflatedKernel(_ shape: [Int]) throws -> Tensor {
        let (d, c, kt, kh, kw) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        let flat = try vit.tensor("embeddings.patch_embeddings.projection.weight", shape: [d, c, kh, kw], prefixed: true,
                                  role: .matrix)
        var out = Tensor(zeros: shape)
        let plane = kh * kw
        for o in 0..<d {
            for ch in 0..<c {
                let src = (o * c + ch) * plane
                for t in 0..<kt {
                    let weight: Float = switch kernelInit {
                    case .centralFrame: t == kt / 2 ? 1 : 0
                    case .average: 1 / Float(kt)
                    }
                    guard weight != 0 else { continue }
                    let dst = ((o * c + ch) * kt + t) * plane
                    for i in 0..<plane { out.storage[dst + i] = flat.storage[src + i] * weight }
                }
            }
        }
        return out
    }

    private func normal(_ shape: [Int], _ std: Float) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.storage[i] = generator.nextNormal() * std }
        return t
    }

    private func xavierUniform(_ shape: [Int]) -> Tensor {
        let bound = (6 / Double(shape[0] + shape[1])).squareRoot()
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.storage[i] = Float((generator.nextUniform() * 2 - 1) * bound) }
        return t
    }
}

extension ViViTFactorisedEncoder {
    /// A factorised encoder whose spatial transformer is an image ViT checkpoint.
    ///
    /// With ``TubeletKernelInit/centralFrame`` the spatial stream computes exactly the ViT's CLS
    /// output on frames `kt/2, kt/2 + kt, …`. Activation and eps are the ViT's (scenic's Flax
    /// model uses tanh GELU and 1e-6; the ViT's own values keep the spatial stream exact).
    ///
    /// - Parameters:
    ///   - directory: HF ViT folder (`config.json`, `model.safetensors`).
    ///   - frames: clip length `T`.
    ///   - tubeletFrames: `kt`.
    ///   - temporalLayers: blocks of the temporal transformer.
    ///   - labels: class names of the new head.
    ///   - temporalWeights: a safetensors file with `temporal.*` keys to load instead of random ones.
    /// - Throws: ``ModelError`` for unreadable or mismatched checkpoints.
    public static func initialised(fromViT directory: String, frames: Int, tubeletFrames: Int = 2,
                                   temporalLayers: Int = 4, labels: [String],
                                   temporalWeights: String? = nil, kernelInit: TubeletKernelInit = .centralFrame,
                                   seed: UInt64 = 0) throws -> ViViTFactorisedEncoder {
        let vitConfig = try ModelRegistry.decode(ViTConfiguration.self, directory: directory)
        var json = try ModelRegistry.configurationObject(directory: directory)
        json["model_type"] = ViViTFactorisedConfiguration.modelType
        json["architectures"] = ["ViViTFactorisedEncoder"]
        json["num_temporal_layers"] = temporalLayers
        json["num_frames"] = frames
        json["tubelet_size"] = [tubeletFrames, vitConfig.patchSize, vitConfig.patchSize]
        json["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
        json.removeValue(forKey: "label2id")
        let data = try JSONSerialization.data(withJSONObject: json)
        let config = try JSONDecoder().decode(ViViTFactorisedConfiguration.self, from: data)
        let vit = try ModelError.funnel { try CheckpointWeights(path: directory + "/model.safetensors", prefix: "vit.") }
        let temporal = try ModelError.funnel { try temporalWeights.map { try CheckpointWeights(path: $0, prefix: "") } }
        return try ViViTFactorisedEncoder(
            configuration: config,
            weights: FactorisedInitialiser(vit: vit, temporal: temporal, kernelInit: kernelInit, seed: seed))
    }
}

