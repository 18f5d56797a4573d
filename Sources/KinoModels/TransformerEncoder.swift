// The pre-norm encoder block shared by HF ViT, ViViT, AST and VideoMAE (ViTLayer), and by the
// scenic ViViT factorised encoder's spatial and temporal transformers.
@_exported import KinoNN
import KinoTensor

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
public struct EncoderLayer: ParameterContainer, Sendable {
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
    /// Adapters of this block (none: the HF block exactly).
    public var adapters = BlockAdapters()

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

    /// The block on `[B, N, D]` tokens, for inference and training alike.
    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        let u = layerNormBefore(x, &c)
        var k = key(u, &c), vs = value(u, &c)
        if let prefix = adapters.prefix {
            k = prefix.extend(k, with: prefix.keys, &c)
            vs = prefix.extend(vs, with: prefix.values, &c)
        }
        let a = attentionOutput(c.attention(query: query(u, &c), key: k, value: vs, heads: heads), &c)
        let h = adapters.attention.map { $0.placement.join(stream: x, input: u, output: a, adapter: $0.module, &c) }
            ?? c.add(x, a)
        let v = layerNormAfter(h, &c)
        let f = output(c.activation(intermediate(v, &c), activation), &c)
        return adapters.feedForward.map { $0.placement.join(stream: h, input: v, output: f, adapter: $0.module, &c) }
            ?? c.add(h, f)
    }

    /// The block's linear layers with their HF module names under the block
    /// (`attention.attention.query`, …, `output.dense`), in this order.
    public static let linearNames = ["attention.attention.query", "attention.attention.key", "attention.attention.value",
                                     "attention.output.dense", "intermediate.dense", "output.dense"]

    /// Calls `body` on each linear layer with its name in ``linearNames``.
    public mutating func visitLinears(_ body: (inout Linear, String) throws -> Void) rethrows {
        try body(&query, Self.linearNames[0])
        try body(&key, Self.linearNames[1])
        try body(&value, Self.linearNames[2])
        try body(&attentionOutput, Self.linearNames[3])
        try body(&intermediate, Self.linearNames[4])
        try body(&output, Self.linearNames[5])
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try layerNormBefore.visitParameters(body)
        try query.visitParameters(body)
        try key.visitParameters(body)
        try value.visitParameters(body)
        try attentionOutput.visitParameters(body)
        try layerNormAfter.visitParameters(body)
        try intermediate.visitParameters(body)
        try output.visitParameters(body)
        try adapters.visitParameters(body)
    }
}

/// A stack of ``EncoderLayer``s followed by a final layer norm (HF `encoder` + `layernorm`).
public struct TransformerEncoder: ParameterContainer, Sendable {
    public var layers: [EncoderLayer]
    /// `layernorm`; nil where the model normalises after pooling instead (VideoMAE's
    /// `use_mean_pooling`, whose `fc_norm` follows the token mean).
    public var finalNorm: LayerNorm?
    /// Recompute each block's forward during backward instead of keeping its activations
    /// (activation checkpointing): a training tape then holds one `[B, N, D]` tensor per block.
    public var recomputesBlocks = false
    /// Learned prompt tokens (prompt tuning); nil for none.
    public var prompts: PromptTokens?

    /// Loads `{root}encoder.layer.*` (each block by `layer`) and `{root}{normKey}` (no final norm
    /// for a nil `normKey`).
    ///
    /// Layers are loaded one by one, each only once the checkpoint is seen to hold it, so a
    /// layer count (`layersField` in config.json) beyond the checkpoint's is an error naming that
    /// field rather than a table sized by it.
    static func load(_ source: any WeightSource, root: String = "", normKey: String? = "layernorm",
                     shape: EncoderShape, layersField: String = "num_hidden_layers",
                     layer: (any WeightSource, String, Int, EncoderShape) throws -> EncoderLayer = {
                         try EncoderLayer.load($0, root: $1, index: $2, shape: $3)
                     })
        throws -> TransformerEncoder {
        var layers: [EncoderLayer] = []
        for index in 0..<max(0, shape.layers) {
            let first = "\(root)encoder.layer.\(index).layernorm_before.weight"
            if source.availability(of: first, prefixed: true) == .missing {
                throw ConfigurationCheck.invalid(
                    "\(layersField) is \(shape.layers) but the checkpoint has \(index) \(root)encoder layers (no \(first))")
            }
            layers.append(try layer(source, root, index, shape))
        }
        return TransformerEncoder(layers: layers,
                                  finalNorm: try normKey.map { try .load(source, root + $0, size: shape.hiddenSize,
                                                                         eps: shape.layerNormEps) })
    }

    /// The token width `D`.
    public var width: Int { finalNorm?.weight.count ?? layers.first?.layerNormBefore.weight.count ?? 0 }

    /// Every block and the final norm on `[B, N, D]` tokens.
    public func callAsFunction<C: ConvolutionContext>(_ tokens: C.Value, _ c: inout C) -> C.Value {
        var hidden = tokens
        if let prompts { hidden = prompts.insert(into: hidden, &c) }
        for (index, layer) in layers.enumerated() {
            if let prompts, index > 0 { hidden = prompts.replace(in: hidden, block: index, &c) }
            hidden = recomputesBlocks ? c.checkpointed([hidden]) { inner, x in layer(x[0], &inner) } : layer(hidden, &c)
        }
        return finalNorm.map { $0(hidden, &c) } ?? hidden
    }

    /// Eagerly, on a tensor.
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        var e = Eager()
        return self(tokens, &e)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try layers.visitParameters(body)
        try finalNorm.visitParameters(body)
        try prompts.visitParameters(body)
    }

    /// Every batch-norm buffer of the blocks' adapters.
    public mutating func visitBuffers(_ body: (inout BatchNormStatistics) throws -> Void) rethrows {
        for i in layers.indices { try layers[i].adapters.visitBuffers(body) }
    }
}
