// The pre-norm encoder block shared by HF ViT, ViViT and AST (ViTLayer), and by the scenic
// ViViT factorised encoder's spatial and temporal transformers.
import KinoTensor

/// A fully connected layer in PyTorch's layout: `y = x·Wᵀ + b`, `W` is `[out, in]`.
public struct Linear: Sendable {
    public var weight: Tensor
    public var bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// Loads `key.weight` `[out, in]` and `key.bias` `[out]`.
    static func load(_ source: any WeightSource, _ key: String, input: Int, output: Int,
                     prefixed: Bool = true) throws -> Linear {
        Linear(weight: try source.tensor(key + ".weight", shape: [output, input], prefixed: prefixed),
               bias: try source.tensor(key + ".bias", shape: [output], prefixed: prefixed))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }

    func callAsFunction(_ x: Tensor, into out: inout Tensor) { x.linear(weight: weight, bias: bias, into: &out) }

    var parameterCount: Int { weight.count + (bias?.count ?? 0) }
}

/// Scale, shift and epsilon of a layer normalisation over the last dimension.
public struct LayerNorm: Sendable {
    public var weight: Tensor
    public var bias: Tensor
    public var eps: Float

    static func load(_ source: any WeightSource, _ key: String, size: Int, eps: Float,
                     prefixed: Bool = true) throws -> LayerNorm {
        LayerNorm(weight: try source.tensor(key + ".weight", shape: [size], prefixed: prefixed),
                  bias: try source.tensor(key + ".bias", shape: [size], prefixed: prefixed), eps: eps)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }

    func callAsFunction(_ x: Tensor, into out: inout Tensor) {
        x.layerNorm(weight: weight, bias: bias, eps: eps, into: &out)
    }
}

/// Sizes shared by every encoder block of one transformer.
public struct EncoderShape: Sendable, Equatable {
    public var hiddenSize: Int
    public var heads: Int
    public var intermediateSize: Int
    public var layers: Int
    public var activation: Activation
    public var layerNormEps: Float

    public init(hiddenSize: Int, heads: Int, intermediateSize: Int, layers: Int, activation: Activation,
                layerNormEps: Float) {
        self.hiddenSize = hiddenSize
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.activation = activation
        self.layerNormEps = layerNormEps
    }
}

/// One pre-norm block: `h += Attn(LN₁ h)`, then `h += MLP(LN₂ h)`.
public struct EncoderLayer: Sendable {
    public var layerNormBefore: LayerNorm
    public var query: Linear
    public var key: Linear
    public var value: Linear
    /// `attention.output.dense`.
    public var attentionOutput: Linear
    public var layerNormAfter: LayerNorm
    /// `intermediate.dense`, hidden → intermediate.
    public var intermediate: Linear
    /// `output.dense`, intermediate → hidden.
    public var output: Linear
    public var heads: Int
    public var activation: Activation

    /// Loads block `index` under `encoder.layer.{index}.` (HF legacy names).
    static func load(_ source: any WeightSource, root: String, index: Int, shape s: EncoderShape) throws -> EncoderLayer {
        let p = "\(root)encoder.layer.\(index)."
        let d = s.hiddenSize
        return EncoderLayer(
            layerNormBefore: try .load(source, p + "layernorm_before", size: d, eps: s.layerNormEps),
            query: try .load(source, p + "attention.attention.query", input: d, output: d),
            key: try .load(source, p + "attention.attention.key", input: d, output: d),
            value: try .load(source, p + "attention.attention.value", input: d, output: d),
            attentionOutput: try .load(source, p + "attention.output.dense", input: d, output: d),
            layerNormAfter: try .load(source, p + "layernorm_after", size: d, eps: s.layerNormEps),
            intermediate: try .load(source, p + "intermediate.dense", input: d, output: s.intermediateSize),
            output: try .load(source, p + "output.dense", input: s.intermediateSize, output: d),
            heads: s.heads, activation: s.activation)
    }

    /// Runs the block on `hidden` (`[B, N, D]`) in place, using `scratch` for every intermediate.
    ///
    /// Each intermediate (normed input, q/k/v, attention output, MLP activation) stays in its own
    /// scratch buffer rather than being fused away, so a backward pass can read them.
    public func forward(_ hidden: inout Tensor, scratch: inout EncoderScratch) {
        layerNormBefore(hidden, into: &scratch.normed)
        query(scratch.normed, into: &scratch.query)
        key(scratch.normed, into: &scratch.key)
        value(scratch.normed, into: &scratch.value)
        Tensor.attention(query: scratch.query, key: scratch.key, value: scratch.value, heads: heads,
                         into: &scratch.context, probabilities: nil)
        attentionOutput(scratch.context, into: &scratch.projected)
        hidden.add(scratch.projected)
        layerNormAfter(hidden, into: &scratch.normed)
        intermediate(scratch.normed, into: &scratch.mlp)
        scratch.mlp.apply(activation)
        output(scratch.mlp, into: &scratch.projected)
        hidden.add(scratch.projected)
    }

    var parameterCount: Int {
        [query, key, value, attentionOutput, intermediate, output].reduce(0) { $0 + $1.parameterCount }
            + 2 * (layerNormBefore.weight.count + layerNormBefore.bias.count)
    }
}

/// Buffers reused by every block of a forward pass; sized on first use.
public struct EncoderScratch: Sendable {
    public var normed = Tensor(zeros: [0])
    public var query = Tensor(zeros: [0])
    public var key = Tensor(zeros: [0])
    public var value = Tensor(zeros: [0])
    public var context = Tensor(zeros: [0])
    public var projected = Tensor(zeros: [0])
    public var mlp = Tensor(zeros: [0])

    public init() {}
}

/// A stack of ``EncoderLayer``s followed by a final layer norm (HF `encoder` + `layernorm`).
public struct TransformerEncoder: Sendable {
    public var layers: [EncoderLayer]
    public var finalNorm: LayerNorm

    /// Loads `{root}encoder.layer.*` and `{root}{normKey}`.
    static func load(_ source: any WeightSource, root: String = "", normKey: String = "layernorm",
                     shape: EncoderShape) throws -> TransformerEncoder {
        let layers = try (0..<shape.layers).map { try EncoderLayer.load(source, root: root, index: $0, shape: shape) }
        return TransformerEncoder(layers: layers,
                                  finalNorm: try .load(source, root + normKey, size: shape.hiddenSize,
                                                       eps: shape.layerNormEps))
    }

    /// Runs every block and the final norm on `[B, N, D]` tokens.
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        var hidden = tokens
        var scratch = EncoderScratch()
        for layer in layers { layer.forward(&hidden, scratch: &scratch) }
        return finalNorm(hidden)
    }

    var parameterCount: Int {
        layers.reduce(0) { $0 + $1.parameterCount } + finalNorm.weight.count + finalNorm.bias.count
    }
}

extension TransformerEncoder {
    /// Every weight under its HF legacy name, `root` prepended (for saving a checkpoint).
    func namedWeights(root: String = "", normKey: String = "layernorm") -> [String: Tensor] {
        var out: [String: Tensor] = [root + normKey + ".weight": finalNorm.weight, root + normKey + ".bias": finalNorm.bias]
        for (i, layer) in layers.enumerated() {
            let p = "\(root)encoder.layer.\(i)."
            let linears: [(String, Linear)] = [
                ("attention.attention.query", layer.query), ("attention.attention.key", layer.key),
                ("attention.attention.value", layer.value), ("attention.output.dense", layer.attentionOutput),
                ("intermediate.dense", layer.intermediate), ("output.dense", layer.output),
            ]
            for (name, linear) in linears {
                out[p + name + ".weight"] = linear.weight
                if let bias = linear.bias { out[p + name + ".bias"] = bias }
            }
            for (name, norm) in [("layernorm_before", layer.layerNormBefore), ("layernorm_after", layer.layerNormAfter)] {
                out[p + name + ".weight"] = norm.weight
                out[p + name + ".bias"] = norm.bias
            }
        }
        return out
    }
}
