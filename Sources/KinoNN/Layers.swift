import KinoTensor

/// A fully connected layer in PyTorch's layout: `y = x·Wᵀ + b`, `W` is `[out, in]`.
public struct Linear: ParameterContainer, Sendable {
    public var weight: Parameter
    public var bias: Parameter?
    /// A low-rank update beside the frozen weight (LoRA); nil for a plain layer.
    public var delta: LowRankDelta?

    public init(weight: Parameter, bias: Parameter?, delta: LowRankDelta? = nil) {
        self.weight = weight
        self.bias = bias
        self.delta = delta
    }

    /// The key without `.weight`: where PEFT puts `lora_A`/`lora_B`.
    public var baseKey: String { weight.key.hasSuffix(".weight") ? String(weight.key.dropLast(7)) : weight.key }

    /// Loads `key.weight` `[out, in]` and `key.bias` `[out]`.
    public static func load(_ source: any WeightSource, _ key: String, input: Int, output: Int,
                            prefixed: Bool = true, bias: Bool = true) throws -> Linear {
        Linear(weight: try source.parameter(key + ".weight", shape: [output, input], prefixed: prefixed, role: .matrix),
               bias: bias ? try source.parameter(key + ".bias", shape: [output], prefixed: prefixed, role: .bias) : nil)
    }

    public func callAsFunction<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        let y = c.linear(x, weight: c.parameter(weight), bias: bias.map { c.parameter($0) })
        guard let delta else { return y }
        return c.add(y, delta(x, &c))
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
