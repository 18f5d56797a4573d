// Compact Convolutional Transformer (Hassani et al. 2021, "Escaping the Big Data Paradigm with
// Compact Transformers"), for log-mel windows: a convolutional tokeniser instead of patches, a
// few small pre-norm blocks, sequence pooling instead of a class token. Kino's own model type.
import Foundation
import KinoTensor

/// `config.json` of `model_type: "kino-cct"`. The shared fields (`hidden_size`, layers, heads,
/// `intermediate_size`, `hidden_act`, `layer_norm_eps`, `id2label`) are HF's; the tokeniser is
/// `tokenizer_channels.count` convolutions of `tokenizer_kernel` with stride `tokenizer_stride`
/// and padding ⌊k/2⌋, each followed by ReLU, the last one's channels being `hidden_size`.
public struct CompactTransformerConfiguration: Codable, Sendable, Equatable {
    public static let modelType = "kino-cct"
    public var common: CommonConfiguration
    /// Frames per input window (time, the image width).
    public var maximumLength: Int
    public var numberOfMelBins: Int
    public var tokenizerChannels: [Int]
    public var tokenizerKernel: Int
    public var tokenizerStride: Int

    enum CodingKeys: String, CodingKey {
        case maximumLength = "max_length"
        case numberOfMelBins = "num_mel_bins"
        case tokenizerChannels = "tokenizer_channels"
        case tokenizerKernel = "tokenizer_kernel"
        case tokenizerStride = "tokenizer_stride"
    }

    public init(from decoder: any Decoder) throws {
        common = try CommonConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maximumLength = try c.decode(Int.self, forKey: .maximumLength)
        numberOfMelBins = try c.decode(Int.self, forKey: .numberOfMelBins)
        tokenizerChannels = try c.decode([Int].self, forKey: .tokenizerChannels)
        tokenizerKernel = try c.decodeIfPresent(Int.self, forKey: .tokenizerKernel) ?? 3
        tokenizerStride = try c.decodeIfPresent(Int.self, forKey: .tokenizerStride) ?? 2
    }

    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maximumLength, forKey: .maximumLength)
        try c.encode(numberOfMelBins, forKey: .numberOfMelBins)
        try c.encode(tokenizerChannels, forKey: .tokenizerChannels)
        try c.encode(tokenizerKernel, forKey: .tokenizerKernel)
        try c.encode(tokenizerStride, forKey: .tokenizerStride)
    }

    /// The token grid (mel bins × frames after the tokenizer).
    public var grid: [Int] {
        CompactStream.grid([numberOfMelBins, maximumLength], layers: tokenizerChannels.count, kernel: tokenizerKernel, stride: tokenizerStride)
    }
}

/// One tokeniser convolution, `tokenizer.{i}.{weight,bias}`, `[out, in, k, k]`.
public struct TokenizerConvolution: ParameterContainer, Sendable {
    public var weight: Parameter
    public var bias: Parameter

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        try body(&bias)
    }
}

/// A compact transformer over one image-like input `[N, C, H, W]`: the convolutional tokenizer,
/// a learned position table, pre-norm blocks with a final norm, and sequence pooling. The audio
/// model is one stream over a spectrogram; the video model runs one over every tubelet.
///
/// Keys under `root`: `tokenizer.{i}.*`, `embeddings.position_embeddings` `[1, N, D]`,
/// `encoder.layer.{i}.*`, `layernorm.*`, `pooler.attention.weight` `[1, D]`.
public struct CompactStream: ParameterContainer, Sendable {
    public var tokenizer: [TokenizerConvolution]
    public var positionEmbeddings: Parameter
    public var encoder: TransformerEncoder
    /// Sequence pooling's scoring weights `[1, D]`. CCT's pooling layer is `nn.Linear(D, 1)`; its
    /// bias adds one constant to every score, which the softmax removes, so it never gets a
    /// gradient and Kino leaves it out.
    public var poolWeight: Parameter
    public let geometry: ConvolutionGeometry
    /// The token grid after the tokenizer.
    public let grid: [Int]

    /// The grid `extent` leaves after `layers` convolutions of `kernel`, `stride`, padding ⌊k/2⌋.
    static func grid(_ extent: [Int], layers: Int, kernel: Int, stride: Int) -> [Int] {
        var size = extent
        for _ in 0..<layers { size = size.map { ($0 + 2 * (kernel / 2) - kernel) / stride + 1 } }
        return size
    }

    static func load(_ source: any WeightSource, root: String, inputChannels: Int, channels: [Int], kernel: Int, stride: Int,
                     extent: [Int], shape: EncoderShape, layersField: String = "num_hidden_layers") throws -> CompactStream {
        let d = shape.hiddenSize
        guard !channels.isEmpty, channels.allSatisfy({ $0 > 0 }), channels.last == d else {
            throw ModelError.invalidConfiguration(path: "config.json",
                                                  reason: "tokenizer_channels \(channels) must be positive and end at hidden_size \(d)")
        }
        try ConfigurationCheck.atLeast(1, kernel, "tokenizer_kernel")
        try ConfigurationCheck.atLeast(1, stride, "tokenizer_stride")
        let grid = Self.grid(extent, layers: channels.count, kernel: kernel, stride: stride)
        guard grid.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "the tokenizer leaves no token from \(extent)")
        }
        let tokens = try ConfigurationCheck.tokens(prefix: 0, grid: grid, fields: "the input size and the tokenizer")
        var previous = inputChannels
        var convs: [TokenizerConvolution] = []
        for (i, out) in channels.enumerated() {
            convs.append(try ModelError.funnel {
                TokenizerConvolution(weight: try source.parameter(root + "tokenizer.\(i).weight", shape: [out, previous, kernel, kernel], role: .matrix),
                                     bias: try source.parameter(root + "tokenizer.\(i).bias", shape: [out], role: .bias))
            })
            previous = out
        }
        return try ModelError.funnel {
            CompactStream(tokenizer: convs,
                          positionEmbeddings: try source.parameter(root + "embeddings.position_embeddings", shape: [1, tokens, d], role: .embedding),
                          encoder: try TransformerEncoder.load(source, root: root, shape: shape, layersField: layersField),
                          poolWeight: try source.parameter(root + "pooler.attention.weight", shape: [1, d], role: .matrix),
                          geometry: ConvolutionGeometry(stride: [stride, stride], padding: [kernel / 2, kernel / 2]),
                          grid: grid)
        }
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        for i in tokenizer.indices { try tokenizer[i].visitParameters(body) }
        try body(&positionEmbeddings)
        try encoder.visitParameters(body)
        try body(&poolWeight)
    }

    /// The encoder's output `[N, L, D]` (tokens row-major over the grid) and the pool `[N, D]`.
    public func callAsFunction<C: ConvolutionContext>(_ input: C.Value, _ c: inout C) -> (hidden: C.Value, pooled: C.Value) {
        var x = input
        for conv in tokenizer {
            x = c.activation(c.convolution2D(x, weight: c.parameter(conv.weight), bias: c.parameter(conv.bias), geometry), .relu)
        }
        let shape = c.tensor(x).shape
        let (n, d) = (shape[0], shape[1])
        let tokens = c.transposeLastTwo(c.reshape(x, [n, d, grid.reduce(1, *)]))
        let hidden = encoder(c.add(tokens, c.parameter(positionEmbeddings)), &c)
        // Sequence pooling as one-head attention whose single query is w·√D: the same weights.
        let query = c.reshape(c.scale(c.parameter(poolWeight), by: Float(d).squareRoot()), [1, 1, d])
        let queries = c.add(c.constant(Tensor(zeros: [n, 1, d])), query)
        return (hidden, c.reshape(c.attention(query: queries, key: hidden, value: hidden, heads: 1), [n, d]))
    }
}

/// The CCT classifier of fbank windows `[frames, bins]` (the same `input_values` as AST): one
/// ``CompactStream`` over the spectrogram as a one-channel image (frequency the height, time the
/// width, as AST), then a linear head on the pool.
///
/// Keys: the stream's at the root, and `classifier.*`.
public struct CompactTransformerForAudioClassification: FbankClassifier {
    public internal(set) var configuration: CompactTransformerConfiguration
    public var stream: CompactStream
    public var classifier: Linear
    public internal(set) var labels: [String]
    public var unusedKeys: [String] = []

    /// - Throws: ``ModelError`` naming the first missing or mis-shaped key or bad field.
    public init(configuration: CompactTransformerConfiguration, weights source: any WeightSource) throws {
        let c = configuration, d = c.common.hiddenSize
        try c.common.validate(path: "config.json")
        try ConfigurationCheck.atLeast(1, c.maximumLength, "max_length")
        try ConfigurationCheck.atLeast(1, c.numberOfMelBins, "num_mel_bins")
        let n = try c.common.labelCount(head: "classifier.weight", in: source)
        self.configuration = c
        labels = c.common.labels
        guard !labels.isEmpty else {
            throw ModelError.invalidConfiguration(path: "config.json", reason: "CompactTransformerForAudioClassification needs id2label")
        }
        stream = try CompactStream.load(source, root: "", inputChannels: 1, channels: c.tokenizerChannels, kernel: c.tokenizerKernel,
                                        stride: c.tokenizerStride, extent: [c.numberOfMelBins, c.maximumLength], shape: c.common.encoderShape)
        classifier = try ModelError.funnel { try Linear.load(source, "classifier", input: d, output: n, prefixed: false) }
    }

    public var architecture: String { "CompactTransformerForAudioClassification" }
    public var inputName: String { "input_values" }
    public var sampleShape: [Int] { [configuration.maximumLength, configuration.numberOfMelBins] }
    public var windowFrames: Int { configuration.maximumLength }
    public var melBins: Int { configuration.numberOfMelBins }
    public var scoring: LabelScoring { configuration.common.scoring(default: .softmax) }
    public func configurationJSON() throws -> Data { try encodeConfiguration(configuration) }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try body(&stream.encoder)
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        classifier = newHead(key: "classifier", width: configuration.common.hiddenSize, labels: labels.count, random: &random)
        configuration.common.relabel(labels, multiLabel: multiLabel)
        self.labels = labels
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try stream.visitParameters(body)
        try classifier.visitParameters(body)
    }

    /// `lastHiddenState` is the encoder's output `[B, N, D]` (frequency-major), `pooled` the
    /// sequence pool.
    public func forward<C: ConvolutionContext>(_ features: C.Value, in c: inout C) -> ModelValues<C.Value> {
        let cfg = configuration
        let b = c.tensor(features).shape[0]
        // [B, T, F] → [B, 1, F, T].
        let image = c.reshape(c.transposeLastTwo(features), [b, 1, cfg.numberOfMelBins, cfg.maximumLength])
        let (hidden, pooled) = stream(image, &c)
        return ModelValues(logits: classifier(pooled, &c), lastHiddenState: hidden, pooled: pooled)
    }

    /// `head`: the sequence pool `[D]`.
    public var cuts: [ForwardCut] {
        [ForwardCut(name: "head", featureShape: [configuration.common.hiddenSize], suffixRoots: ["classifier."])]
    }

    public func features<C: ConvolutionContext>(_ input: C.Value, at cut: ForwardCut, in c: inout C) -> C.Value {
        precondition(cut.name == "head")
        return forward(input, in: &c).pooled!
    }

    public func forward<C: ConvolutionContext>(features: C.Value, after cut: ForwardCut, in c: inout C) -> ModelValues<C.Value> {
        precondition(cut.name == "head")
        return ModelValues(logits: classifier(features, &c), lastHiddenState: features, pooled: features)
    }
}

/// Initial weights for training a compact transformer from scratch, after CCT's recipe:
/// Kaiming-normal tokeniser kernels (fan-in, for ReLU), normal 0.02 linears clipped at ±2σ, position
/// table normal 0.2, zero biases, unit norm scales. Deterministic in `seed` and the key.
public final class CompactInitialiser: WeightSource {
    let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func storedKey(_ key: String, prefixed: Bool) -> String { key }
    public func contains(_ key: String, prefixed: Bool) -> Bool { false }

    public func tensor(_ key: String, shape: [Int], prefixed: Bool, role: WeightRole) throws -> Tensor {
        var random = SplitMix64Source.stream("init-" + key, seed: seed)
        switch role {
        case .bias, .zeroMatrix: return Tensor(zeros: shape)
        case .normScale: return Tensor(repeating: 1, shape: shape)
        case .embedding: return random.normal(shape, standardDeviation: 0.2)
        case .matrix:
            if key.hasPrefix("tokenizer.") || key.contains(".tokenizer.") {
                let fanIn = shape.dropFirst().reduce(1, *)
                return random.normal(shape, standardDeviation: (2 / Float(fanIn)).squareRoot())
            }
            // Clipped at two standard deviations (timm's trunc_normal_ redraws instead).
            var t = random.normal(shape, standardDeviation: 0.02)
            for i in t.storage.indices where abs(t.storage[i]) > 0.04 { t.storage[i] = 0.04 * (t.storage[i] > 0 ? 1 : -1) }
            return t
        }
    }
}
