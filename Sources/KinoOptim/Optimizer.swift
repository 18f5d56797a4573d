// Optimisers with PyTorch's semantics (torch.optim.AdamW and SGD, single-tensor path), so a
// trajectory can be checked against torch step for step.
import Foundation
import KinoNN
import KinoTensor

/// Updates trainable parameters from their gradients; its state (moments, step) is keyed by
/// ``Parameter/key`` and saved with a checkpoint.
public protocol Optimizer: Sendable {
    /// Steps taken so far.
    var step: Int { get }
    /// Applies one update with learning rate `learningRate` to every trainable parameter that has
    /// a gradient (frozen parameters and parameters without a gradient are left alone).
    mutating func update(_ model: inout some ParameterContainer, gradients: Gradients, learningRate: Float)
    /// Moments and the like, as tensors, for a checkpoint.
    var stateTensors: [String: Tensor] { get }
    /// Restores ``stateTensors`` and the step.
    mutating func restore(step: Int, tensors: [String: Tensor]) throws
}

/// A saved optimiser state that does not fit the optimiser.
public enum OptimizerError: Error, Equatable, LocalizedError {
    case stateShape(key: String, expected: [Int], found: [Int])

    public var errorDescription: String? {
        switch self {
        case .stateShape(let key, let expected, let found):
            "optimiser state \"\(key)\" has shape \(found), its parameter \(expected)"
        }
    }
}

/// AdamW as PyTorch computes it: `p ← p·(1 − lr·λ)`, `m ← β₁m + (1 − β₁)g`,
/// `v ← β₂v + (1 − β₂)g²`, `p ← p − lr·m̂/(√v̂ + ε)` with bias-corrected `m̂`, `v̂`
/// (`step_size = lr/(1 − β₁ᵗ)`, denominator `√v/√(1 − β₂ᵗ) + ε`, as torch orders it).
public struct AdamW: Optimizer, Equatable {
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    public private(set) var step = 0
    var first: [String: Tensor] = [:]
    var second: [String: Tensor] = [:]

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    public mutating func update(_ model: inout some ParameterContainer, gradients: Gradients, learningRate lr: Float) {
        step += 1
        let t = Float(step)
        let correction1 = 1 - powf(beta1, t)
        let correction2Root = (1 - powf(beta2, t)).squareRoot()
        let stepSize = lr / correction1
        let (b1, b2, eps, decay) = (beta1, beta2, self.eps, 1 - lr * weightDecay)
        model.visitParameters { p in
            guard p.isTrainable, let g = gradients[p.key] else { return }
            var m = first.removeValue(forKey: p.key) ?? Tensor(zeros: p.shape)
            var v = second.removeValue(forKey: p.key) ?? Tensor(zeros: p.shape)
            let n = p.count
            p.value.storage.withUnsafeMutableBufferPointer { pp in
            m.storage.withUnsafeMutableBufferPointer { pm in
            v.storage.withUnsafeMutableBufferPointer { pv in
            g.storage.withUnsafeBufferPointer { pg in
                let (pp, pm, pv, pg) = (pp.baseAddress!, pm.baseAddress!, pv.baseAddress!, pg.baseAddress!)
                // Element-wise, the same IEEE operations in the same order eight lanes at a time, so
                // the result does not depend on the split.
                Parallelism.forChunks(n, minimumChunk: 1 << 16) { range in
                    var i = range.lowerBound
                    while i + 8 <= range.upperBound {
                        let gi = UnsafeRawPointer(pg + i).loadUnaligned(as: SIMD8<Float>.self)
                        var pi = UnsafeRawPointer(pp + i).loadUnaligned(as: SIMD8<Float>.self)
                        var mi = UnsafeRawPointer(pm + i).loadUnaligned(as: SIMD8<Float>.self)
                        var vi = UnsafeRawPointer(pv + i).loadUnaligned(as: SIMD8<Float>.self)
                        pi *= decay
                        mi = mi * b1 + gi * (1 - b1)
                        vi = vi * b2 + gi * gi * (1 - b2)
                        let denominator = vi.squareRoot() / correction2Root + eps
                        pi -= stepSize * mi / denominator
                        UnsafeMutableRawPointer(pp + i).storeBytes(of: pi, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(pm + i).storeBytes(of: mi, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(pv + i).storeBytes(of: vi, as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < range.upperBound {
                        let gi = pg[i]
                        pp[i] *= decay
                        pm[i] = pm[i] * b1 + gi * (1 - b1)
                        pv[i] = pv[i] * b2 + gi * gi * (1 - b2)
                        let denominator = pv[i].squareRoot() / correction2Root + eps
                        pp[i] -= stepSize * pm[i] / denominator
                        i += 1
                    }
                }
            }}}}
            first[p.key] = m
            second[p.key] = v
        }
    }

    public var stateTensors: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, m) in first { out["m." + k] = m }
        for (k, v) in second { out["v." + k] = v }
        return out
    }

    public mutating func restore(step: Int, tensors: [String: Tensor]) throws {
        self.step = step
        first = [:]
        second = [:]
        for (name, t) in tensors {
            if name.hasPrefix("m.") { first[String(name.dropFirst(2))] = t }
            if name.hasPrefix("v.") { second[String(name.dropFirst(2))] = t }
        }
    }
}

/// SGD as PyTorch computes it: `g ← g + λp`; with momentum `b ← μb + (1 − τ)g` (`b ← g` on the
/// first step), `g ← g + μb` (Nesterov) or `g ← b`; `p ← p − lr·g`.
public struct SGD: Optimizer, Equatable {
    public var momentum: Float
    public var dampening: Float
    public var nesterov: Bool
    public var weightDecay: Float
    public private(set) var step = 0
    var buffers: [String: Tensor] = [:]

    public init(momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public mutating func update(_ model: inout some ParameterContainer, gradients: Gradients, learningRate lr: Float) {
        step += 1
        let (mu, tau, wd, nesterov) = (momentum, dampening, weightDecay, self.nesterov)
        model.visitParameters { p in
            guard p.isTrainable, let gradient = gradients[p.key] else { return }
            var g = gradient
            if wd != 0 { for i in 0..<g.count { g.storage[i] += wd * p.value.storage[i] } }
            if mu != 0 {
                var b: Tensor
                if let previous = buffers[p.key] {
                    b = previous
                    for i in 0..<b.count { b.storage[i] = b.storage[i] * mu + (1 - tau) * g.storage[i] }
                } else {
                    b = g
                }
                buffers[p.key] = b
                if nesterov {
                    for i in 0..<g.count { g.storage[i] += mu * b.storage[i] }
                } else {
                    g = b
                }
            }
            for i in 0..<p.count { p.value.storage[i] -= lr * g.storage[i] }
        }
    }

    public var stateTensors: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, b) in buffers { out["momentum." + k] = b }
        return out
    }

    public mutating func restore(step: Int, tensors: [String: Tensor]) throws {
        self.step = step
        buffers = [:]
        for (name, t) in tensors where name.hasPrefix("momentum.") { buffers[String(name.dropFirst(9))] = t }
    }
}
