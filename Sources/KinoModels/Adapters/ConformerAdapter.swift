// PETL_AST's Conformer-convolution adapter (Cappellazzo et al. 2024, after the Conformer's
// convolution module): pointwise conv → GLU → depthwise conv → batch norm → SiLU → pointwise conv.
import KinoTensor

/// The convolution module over the token sequence `[B, M, D]`, all tokens in order.
///
/// The pointwise convolutions (kernel 1) are linear layers on each token. The depthwise one runs
/// along the sequence with 'same' zero padding. Batch norm uses the batch's statistics while
/// training (the tape records the running ones) and the running ones otherwise. PyTorch's
/// default init (Kaiming-uniform with `a = √5`, bias uniform ±1/√fan-in), so the output changes
/// from step 0, as in the reference. The reference also computes a LayerNorm and discards its
/// result (its quirk C); Kino leaves it out, so a layer holds 1,536 fewer weights at width 768
/// (19,488 instead of 21,024 at bottleneck 8).
public struct ConformerAdapter: ParameterContainer, Sendable {
    /// `D → 2r` (GLU halves it).
    public var pointwiseIn: Linear
    /// `[r, 1, 1, k]` weight and `[r]` bias.
    public var depthwiseWeight: Parameter
    public var depthwiseBias: Parameter
    public var normWeight: Parameter
    public var normBias: Parameter
    public var running: BatchNormStatistics
    /// `r → D`.
    public var pointwiseOut: Linear
    public var kernelSize: Int

    public init(key: String, width: Int, size: Int, kernelSize: Int, random: inout some RandomSource) {
        func uniform(_ shape: [Int], fanIn: Int) -> Tensor {
            let bound = 1 / Float(fanIn).squareRoot()
            return random.uniform(shape, in: -bound...bound)
        }
        pointwiseIn = Linear(weight: Parameter(key: key + ".pointwise_in.weight", value: uniform([2 * size, width], fanIn: width)),
                             bias: Parameter(key: key + ".pointwise_in.bias", value: uniform([2 * size], fanIn: width)))
        depthwiseWeight = Parameter(key: key + ".depthwise.weight", value: uniform([size, 1, 1, kernelSize], fanIn: kernelSize))
        depthwiseBias = Parameter(key: key + ".depthwise.bias", value: uniform([size], fanIn: kernelSize))
        normWeight = Parameter(key: key + ".norm.weight", value: Tensor(repeating: 1, shape: [size]))
        normBias = Parameter(key: key + ".norm.bias", value: Tensor(zeros: [size]))
        running = BatchNormStatistics(meanKey: key + ".norm.running_mean", varianceKey: key + ".norm.running_var",
                                      mean: Tensor(zeros: [size]), variance: Tensor(repeating: 1, shape: [size]))
        pointwiseOut = Linear(weight: Parameter(key: key + ".pointwise_out.weight", value: uniform([width, size], fanIn: size)),
                              bias: Parameter(key: key + ".pointwise_out.bias", value: uniform([width], fanIn: size)))
        self.kernelSize = kernelSize
    }

    public var size: Int { depthwiseBias.count }

    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        let shape = c.tensor(x).shape
        let (b, m, r) = (shape[0], shape[1], size)
        let gated = c.glu(pointwiseIn(x, &c), axis: 2)                       // [B, M, r]
        let planes = c.reshape(c.transposeLastTwo(gated), [b, r, 1, m])     // channels first
        let conv = c.convolution(planes, weight: c.parameter(depthwiseWeight), bias: c.parameter(depthwiseBias),
                                 ConvolutionGeometry(stride: [1, 1], padding: [0, kernelSize / 2], groups: r))
        let normed = c.batchNorm(conv, weight: c.parameter(normWeight), bias: c.parameter(normBias),
                                 running: running, eps: 1e-5)
        let activated = c.activation(normed, .silu)
        let tokens = c.transposeLastTwo(c.reshape(activated, [b, r, m]))   // [B, M, r]
        return pointwiseOut(tokens, &c)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try pointwiseIn.visitParameters(body)
        try body(&depthwiseWeight)
        try body(&depthwiseBias)
        try body(&normWeight)
        try body(&normBias)
        try pointwiseOut.visitParameters(body)
    }
}
