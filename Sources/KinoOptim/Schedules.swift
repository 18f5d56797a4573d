import Foundation
import KinoNN
import KinoTensor

/// A learning-rate schedule as data (so a checkpoint can record it): the rate at a step.
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    case constant(Float)
    /// Linear warm-up from 0 over `warmup` steps, then constant.
    case warmupConstant(Float, warmup: Int)
    /// Linear warm-up, then `base·(1 + cos(π·s/S))/2` over the remaining `total − warmup` steps.
    case warmupCosine(Float, warmup: Int, total: Int, minimum: Float = 0)
    /// `base·γ^⌊step/every⌋` (torch `StepLR`).
    case step(Float, every: Int, gamma: Float)

    /// The rate for step `step` (0-based: the first update uses step 0).
    public func callAsFunction(_ step: Int) -> Float {
        switch self {
        case .constant(let base):
            return base
        case .warmupConstant(let base, let warmup):
            return warmup > 0 && step < warmup ? base * Float(step + 1) / Float(warmup) : base
        case .warmupCosine(let base, let warmup, let total, let minimum):
            if warmup > 0 && step < warmup { return base * Float(step + 1) / Float(warmup) }
            let span = max(1, total - warmup)
            let progress = min(1, Double(step - warmup) / Double(span))
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * progress)) / 2)
        case .step(let base, let every, let gamma):
            return base * powf(gamma, Float(step / max(1, every)))
        }
    }
}

/// Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_` (factor
/// `max/(norm + 1e-6)` when the norm exceeds `max`). Keys are visited sorted, so the norm's
/// bits do not depend on dictionary order.
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout Gradients, maximum: Float) -> Float {
    var total = 0.0
    for key in gradients.keys.sorted() {
        for g in gradients[key]!.storage { total += Double(g) * Double(g) }
    }
    let norm = Float(total.squareRoot())
    let factor = maximum / (norm + 1e-6)
    if factor < 1 {
        for key in gradients.keys { gradients[key]!.scale(by: factor) }
    }
    return norm
}

/// An exponential moving average of the trainable weights (`e ← d·e + (1 − d)·p`), kept by key.
public struct ExponentialMovingAverage: Sendable, Equatable {
    public var decay: Float
    public private(set) var shadow: [String: Tensor] = [:]

    public init(decay: Float) { self.decay = decay }

    /// Folds the current trainable weights in (the first call copies them).
    public mutating func update(from model: some ParameterContainer) {
        for p in model.allParameters where p.isTrainable {
            guard var e = shadow[p.key] else { shadow[p.key] = p.value; continue }
            for i in 0..<e.count { e.storage[i] = decay * e.storage[i] + (1 - decay) * p.value.storage[i] }
            shadow[p.key] = e
        }
    }

    /// Restores saved averages.
    public mutating func restore(_ tensors: [String: Tensor]) { shadow = tensors }
}
