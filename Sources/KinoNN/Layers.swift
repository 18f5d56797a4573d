import KinoTensor

/// A fully connected layer in PyTorch's layout: `y = x·Wᵀ + b`, `W` is `[out, in]`.
public struct Linear: ParameterContainer, Sendable {
    public var weight: Parameter
    public var bias: Parameter?

    public init(weight: Parameter, bias: Parameter?) {
        self.weight = weight
        self.bias = bias
    }

    /// Loads `key.weight` `[out, in]` and `key.bias` `[out]`.
    public static func load(_ source: any WeightSource, _ key: String, input: Int, output: Int,
                            prefixed: Bool = true, bias: Bool = true) throws -> Linear {
        Linear(weight: try source.parameter(key + ".weight", shape: [output, input], prefixed: prefixed, role: .matrix),
               bias: bias ? try source.parameter(key + ".bias", shape: [output], prefixed: prefixed, role: .bias) : nil)
    }

    public func callAsFunction<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        c.linear(x, weight: c.parameter(weight), bias: bias.map { c.parameter($0) })
    }

    /// Eagerly, on a tensor.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight.value, bias: bias?.value) }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        if bias != nil { try body(&bias!) }
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
