import KinoTensor

/// A fully connected layer in PyTorch's layout: `y = x·Wᵀ + b`, `W` is `[out, in]`.
public struct Linear: ParameterContainer, Sendable {
    public var weight: Parameter
    public var bias: Parameter?
    /// A low-rank update beside the frozen weight (LoRA); nil for a plain layer.
    public var delta: LowRankDelta?
    /// A learned per-feature scale of the input or the output (IA³); nil for a plain layer.
    public var scaling: FeatureScaling?

    public init(weight: Parameter, bias: Parameter?, delta: LowRankDelta? = nil, scaling: FeatureScaling? = nil) {
        self.weight = weight
        self.bias = bias
        self.delta = delta
        self.scaling = scaling
    }

    /// Input and output features.
    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    /// The key without `.weight`: where PEFT puts `lora_A`/`lora_B`.
    public var baseKey: String { weight.key.hasSuffix(".weight") ? String(weight.key.dropLast(7)) : weight.key }

    /// Loads `key.weight` `[out, in]` and `key.bias` `[out]`.
    public static func load(_ source: any WeightSource, _ key: String, input: Int, output: Int,
                            prefixed: Bool = true, bias: Bool = true) throws -> Linear {
        Linear(weight: try source.parameter(key + ".weight", shape: [output, input], prefixed: prefixed, role: .matrix),
               bias: bias ? try source.parameter(key + ".bias", shape: [output], prefixed: prefixed, role: .bias) : nil)
    }

    public func callAsFunction<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        // IA³ on a feed-forward layer scales what goes in, elsewhere what comes out (bias included).
        let input = scaling?.side == .input ? scaling!.apply(x, &c) : x
        var y = c.linear(input, weight: c.parameter(weight), bias: bias.map { c.parameter($0) })
        if let delta { y = c.add(y, delta(input, &c)) }
        if let scaling, scaling.side == .output { y = scaling.apply(y, &c) }
        return y
    }

    /// Folds the low-rank update into the weight (`W ← W + s·B·A`) and removes it; the layer
    /// computes the same function without it (up to rounding). A layer without one is unchanged.
    public mutating func mergeDelta() {
        guard let d = delta else { return }
        weight.value = weight.value.adding(d.product)
        delta = nil
    }

    /// The inverse of ``mergeDelta()``: subtracts `s·B·A` from the weight and puts `delta` back.
    public mutating func unmergeDelta(_ delta: LowRankDelta) {
        weight.value = weight.value.adding(delta.product.scaled(by: -1))
        self.delta = delta
    }

    /// Folds an IA³ scale into the weight: an output scale multiplies the rows and the bias, an
    /// input scale the columns. Exact up to rounding, like PEFT's merge.
    public mutating func mergeScaling() {
        guard let s = scaling else { return }
        let l = s.scale.value.storage
        var w = weight.value
        let (rows, cols) = (outputFeatures, inputFeatures)
        w.storage.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                for k in 0..<cols { p[r * cols + k] *= s.side == .output ? l[r] : l[k] }
            }
        }
        weight.value = w
        if s.side == .output, var b = bias?.value {
            for r in 0..<rows { b.storage[r] *= l[r] }
            bias!.value = b
        }
        scaling = nil
    }

    /// Eagerly, on a tensor.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var e = Eager()
        return self(x, &e)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        if bias != nil { try body(&bias!) }
        try delta.visitParameters(body)
        try scaling.visitParameters(body)
    }
}

/// IA³ (Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than
/// In-Context Learning"), as PEFT stores it: `<layer>.ia3_l`, `[out, 1]` for an output scale,
/// `[1, in]` for the input scale of a feed-forward layer; initialised to ones.
public struct FeatureScaling: ParameterContainer, Sendable {
    public enum Side: String, Sendable, Codable { case input, output }
    public var scale: Parameter
    public var side: Side

    public init(scale: Parameter, side: Side) {
        self.scale = scale
        self.side = side
    }

    /// Ones (the layer unchanged) under PEFT's key and shape.
    public init(for layer: Linear, side: Side) {
        let shape = side == .input ? [1, layer.inputFeatures] : [layer.outputFeatures, 1]
        self.init(scale: Parameter(key: layer.baseKey + ".ia3_l", value: Tensor(repeating: 1, shape: shape)), side: side)
    }

    func apply<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        c.multiply(x, c.reshape(c.parameter(scale), [scale.count]))
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&scale)
    }
}

/// LoRA's update (Hu et al. 2021, as PEFT computes it): `s·B·A·x` beside a frozen `W`, with
/// `A` `[r, in]`, `B` `[out, r]` under PEFT's keys `<layer>.lora_A.weight`, `<layer>.lora_B.weight`.
public struct LowRankDelta: ParameterContainer, Sendable {
    public var a: Parameter
    public var b: Parameter
    /// `alpha / r` (or `alpha / √r` for rsLoRA).
    public var scale: Float
    /// Dropout on the update's input while training.
    public var dropout: Float

    /// PEFT's default init: `A` Kaiming-uniform with `a = √5` (bound `1/√in`), `B` zero, so the
    /// layer starts as the base.
    public init(for layer: Linear, rank: Int, alpha: Float, dropout: Float = 0, random: inout some RandomSource) {
        let (out, input) = (layer.weight.shape[0], layer.weight.shape[1])
        let bound = 1 / Float(input).squareRoot()
        a = Parameter(key: layer.baseKey + ".lora_A.weight", value: random.uniform([rank, input], in: -bound...bound))
        b = Parameter(key: layer.baseKey + ".lora_B.weight", value: Tensor(zeros: [out, rank]))
        scale = alpha / Float(rank)
        self.dropout = dropout
    }

    /// Kino's options: rank, `alpha / r` or rsLoRA's `alpha / √r`, PEFT's init.
    public init(for layer: Linear, rank: Int, alpha: Float, rankStabilised: Bool, dropout: Float,
                random: inout some RandomSource) {
        self.init(for: layer, rank: rank, alpha: alpha, dropout: dropout, random: &random)
        if rankStabilised { scale = alpha / Float(rank).squareRoot() }
    }

    /// The rank `r`.
    public var rank: Int { a.shape[0] }

    /// `s·B·A`, `[out, in]`: the update merging adds to the weight.
    public var product: Tensor {
        b.value.matmul(a.value).scaled(by: scale)
    }

    public func callAsFunction<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        let input = dropout > 0 ? c.dropout(x, rate: dropout) : x
        let low = c.linear(input, weight: c.parameter(a), bias: nil)
        return c.scale(c.linear(low, weight: c.parameter(b), bias: nil), by: scale)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&a)
        try body(&b)
    }
}

/// Scale, shift and epsilon of a layer normalisation over the last dimension.
public struct LayerNorm: ParameterContainer, Sendable {
    public var weight: Parameter
    public var bias: Parameter
    public var eps: Float

    public init(weight: Parameter, bias: Parameter, eps: Float) {
        self.weight = weight
        self.bias = bias
        self.eps = eps
    }

    public static func load(_ source: any WeightSource, _ key: String, size: Int, eps: Float,
                            prefixed: Bool = true) throws -> LayerNorm {
        LayerNorm(weight: try source.parameter(key + ".weight", shape: [size], prefixed: prefixed, role: .normScale),
                  bias: try source.parameter(key + ".bias", shape: [size], prefixed: prefixed, role: .bias), eps: eps)
    }

    public func callAsFunction<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        c.layerNorm(x, weight: c.parameter(weight), bias: c.parameter(bias), eps: eps)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight.value, bias: bias.value, eps: eps) }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        try body(&bias)
    }
}
