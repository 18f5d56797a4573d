/// The operations model code is written against: run eagerly for inference (``Eager``), or run
/// and recorded for reverse-mode differentiation (``Tape``).
///
/// A model's forward is written once, generic over the context. Both contexts call the same
/// kernels, so a recorded forward equals the eager one bit for bit.
public protocol TensorContext {
    associatedtype Value

    /// The tensor behind a value.
    func tensor(_ value: Value) -> Tensor
    /// An input or other constant (no gradient unless the context is asked for one).
    mutating func constant(_ tensor: Tensor) -> Value
    /// A model weight: trainable parameters get a gradient on a tape, frozen ones do not.
    mutating func parameter(_ parameter: Parameter) -> Value

    /// `x·Wᵀ + b`, `W` `[out, in]`.
    mutating func linear(_ x: Value, weight: Value, bias: Value?) -> Value
    /// `x·W`, `W` `[K, N]` (no transpose), over the last dimension of `x`.
    mutating func matmul(_ x: Value, _ w: Value) -> Value
    /// Layer normalisation over the last dimension.
    mutating func layerNorm(_ x: Value, weight: Value, bias: Value, eps: Float) -> Value
    /// Multi-head scaled dot-product attention, `[B, N, D]` queries, `[B, M, D]` keys and values.
    mutating func attention(query: Value, key: Value, value: Value, heads: Int) -> Value
    /// An activation applied element-wise.
    mutating func activation(_ x: Value, _ function: Activation) -> Value
    /// `a + b`; `b`'s element count must divide `a`'s and `b` is repeated over `a`'s leading
    /// elements (a bias row, a `[1, N, D]` position table).
    mutating func add(_ a: Value, _ b: Value) -> Value
    /// `a ⊙ b`, the same broadcasting rule as ``add(_:_:)``.
    mutating func multiply(_ a: Value, _ b: Value) -> Value
    /// `factor · x`.
    mutating func scale(_ x: Value, by factor: Float) -> Value
    /// Softmax over the last dimension.
    mutating func softmax(_ x: Value) -> Value

    /// The same values with another shape.
    mutating func reshape(_ x: Value, _ shape: [Int]) -> Value
    /// Swaps the last two dimensions.
    mutating func transposeLastTwo(_ x: Value) -> Value
    /// Joins values along `axis`; the other dimensions must agree.
    mutating func concatenate(_ parts: [Value], axis: Int) -> Value
    /// `range` of dimension `axis`.
    mutating func slice(_ x: Value, axis: Int, _ range: Range<Int>) -> Value
    /// Token `index` of every batch item of `[B, N, D]`, as `[B, D]`.
    mutating func token(_ index: Int, of x: Value) -> Value
    /// Mean over dimension `axis`, which is removed.
    mutating func mean(_ x: Value, axis: Int) -> Value

    /// A 2-D (`[B, C, H, W]`) or 3-D (`[B, T, C, H, W]`) patch embedding with VALID padding.
    mutating func patchEmbedding(_ x: Value, weight: Value, bias: Value?, stride: [Int]?) -> Value

    /// Zeroes elements with probability `rate` and scales the rest by `1/(1 − rate)` while
    /// training; the identity otherwise.
    mutating func dropout(_ x: Value, rate: Float) -> Value
    /// The value, with no gradient flowing back through it.
    mutating func stopGradient(_ x: Value) -> Value

    /// Mean softmax cross-entropy of `[B, C]` logits against class indices, with PyTorch's
    /// label smoothing; divided by `divisor` (default B) instead of averaged, so shards of a
    /// batch add up to the batch's loss.
    mutating func crossEntropy(_ logits: Value, labels: [Int], labelSmoothing: Float, divisor: Int?) -> Value
    /// Binary cross-entropy with logits against `[B, C]` targets in [0, 1], summed and divided by
    /// `divisor` (default: the element count).
    mutating func binaryCrossEntropy(_ logits: Value, targets: Tensor, divisor: Int?) -> Value
    /// `Σ w·(x − y)²` divided by `divisor` (default: the element count); `weights` as `x` or nil.
    mutating func meanSquaredError(_ x: Value, target: Tensor, weights: Tensor?, divisor: Int?) -> Value

    /// Runs `body`, which has no gradient rule, on the tensors of `inputs`. A tape refuses it
    /// when an input needs a gradient (a programmer error naming `name`).
    mutating func withoutGradient(_ name: String, _ inputs: [Value], _ body: ([Tensor]) -> Tensor) -> Value

    /// Runs `body` on `inputs`. A tape keeps only the inputs and the output and runs `body` again
    /// during backward (activation checkpointing: memory for time, about one more forward).
    /// `body` must compute the same function both times (it gets the same dropout draws).
    mutating func checkpointed(_ inputs: [Value], _ body: @escaping (inout Self, [Value]) -> Value) -> Value
}

/// Operations with a second protocol: convolutions, group norm, upsampling (the U-Net's and the
/// Conformer adapter's), and compositions of primitives that need no gradient rule of their own.
public protocol ConvolutionContext: TensorContext {
    /// `F.conv2d` on `[B, C, H, W]` with weight `[O, C/g, kh, kw]`, or `F.conv3d` on
    /// `[B, C, D, H, W]` with weight `[O, C/g, kd, kh, kw]` (stride and padding per dimension).
    mutating func convolution(_ x: Value, weight: Value, bias: Value?, _ geometry: ConvolutionGeometry) -> Value
    /// `F.group_norm` on `[B, C, …]`.
    mutating func groupNorm(_ x: Value, groups: Int, weight: Value, bias: Value, eps: Float) -> Value
    /// Nearest upsampling of the last two dimensions by `factor`.
    mutating func upsampleNearest(_ x: Value, factor: Int) -> Value
    /// `F.batch_norm` on `[B, C, …]`: batch statistics in a training tape (which records the
    /// updated running statistics in its `bufferUpdates`), the running ones otherwise.
    mutating func batchNorm(_ x: Value, weight: Value, bias: Value, running: BatchNormStatistics, eps: Float) -> Value
    /// `F.pixel_shuffle` (or, with `inverse`, `F.pixel_unshuffle`) by `factor`.
    mutating func pixelShuffle(_ x: Value, factor: Int, inverse: Bool) -> Value
}

extension TensorContext {
    /// GLU over `axis` (`F.glu`): the first half times the sigmoid of the second.
    public mutating func glu(_ x: Value, axis: Int) -> Value {
        let n = tensor(x).shape[axis]
        precondition(n % 2 == 0, "GLU over an odd axis of \(tensor(x).shape)")
        let a = slice(x, axis: axis, 0 ..< n / 2), b = slice(x, axis: axis, n / 2 ..< n)
        return multiply(a, activation(b, .sigmoid))
    }

    /// GEGLU over the last axis (diffusers `GEGLU` after its projection): `h · gelu(gate)`,
    /// `h` the first half, `gate` the second.
    public mutating func geglu(_ x: Value) -> Value {
        let axis = tensor(x).rank - 1, n = tensor(x).shape[axis]
        precondition(n % 2 == 0, "GEGLU over an odd last axis of \(tensor(x).shape)")
        let h = slice(x, axis: axis, 0 ..< n / 2), gate = slice(x, axis: axis, n / 2 ..< n)
        return multiply(h, activation(gate, .gelu))
    }
}

extension ConvolutionContext {
    /// `F.conv2d` on `[B, C, H, W]`.
    public mutating func convolution2D(_ x: Value, weight: Value, bias: Value?, _ geometry: ConvolutionGeometry) -> Value {
        precondition(tensor(x).rank == 4, "conv2d of \(tensor(x).shape)")
        return convolution(x, weight: weight, bias: bias, geometry)
    }

    /// A 1-D convolution (`F.conv1d`) on `[B, C, L]` with weight `[O, C/g, k]`, as a 2-D one of height 1.
    public mutating func convolution1D(_ x: Value, weight: Value, bias: Value?, stride: Int = 1, padding: Int = 0,
                                       groups: Int = 1) -> Value {
        let s = tensor(x).shape, ws = tensor(weight).shape
        let y = convolution2D(reshape(x, [s[0], s[1], 1, s[2]]), weight: reshape(weight, [ws[0], ws[1], 1, ws[2]]), bias: bias,
                              ConvolutionGeometry(stride: [1, stride], padding: [0, padding], groups: groups))
        let ys = tensor(y).shape
        return reshape(y, [ys[0], ys[1], ys[3]])
    }
}
