/// Runs a forward pass directly on tensors: the inference context. Dropout is the identity.
public struct Eager: TensorContext {
    public typealias Value = Tensor

    public init() {}

    public func tensor(_ value: Tensor) -> Tensor { value }
    public func constant(_ tensor: Tensor) -> Tensor { tensor }
    public func parameter(_ parameter: Parameter) -> Tensor { parameter.value }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor { x.linear(weight: weight, bias: bias) }
    public func matmul(_ x: Tensor, _ w: Tensor) -> Tensor { x.matmul(w) }
    public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        x.layerNorm(weight: weight, bias: bias, eps: eps)
    }
    public func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int) -> Tensor {
        Tensor.attention(query: query, key: key, value: value, heads: heads)
    }
    public func activation(_ x: Tensor, _ function: Activation) -> Tensor { x.applying(function) }
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor { a.adding(b) }
    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { a.multiplying(b) }
    public func scale(_ x: Tensor, by factor: Float) -> Tensor { x.scaled(by: factor) }
    public func softmax(_ x: Tensor) -> Tensor { x.softmax() }

    public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
        var y = x
        y.reshape(shape)
        return y
    }
    public func transposeLastTwo(_ x: Tensor) -> Tensor { x.transposedLastTwo() }
    public func concatenate(_ parts: [Tensor], axis: Int) -> Tensor { Tensor.concatenate(parts, axis: axis) }
    public func slice(_ x: Tensor, axis: Int, _ range: Range<Int>) -> Tensor { x.slice(axis: axis, range) }
    public func token(_ index: Int, of x: Tensor) -> Tensor { x.token(index) }
    public func mean(_ x: Tensor, axis: Int) -> Tensor { x.mean(axis: axis) }

    public func patchEmbedding(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int]?) -> Tensor {
        x.patchEmbedding(weight: weight, bias: bias, stride: stride)
    }

    public func dropout(_ x: Tensor, rate: Float) -> Tensor { x }
    public func stopGradient(_ x: Tensor) -> Tensor { x }

    public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float, divisor: Int?) -> Tensor {
        Tensor(shape: [1], values: [Tensor.crossEntropy(logits: logits, labels: labels, labelSmoothing: labelSmoothing,
                                                        divisor: divisor).loss])
    }
    public func binaryCrossEntropy(_ logits: Tensor, targets: Tensor, divisor: Int?) -> Tensor {
        Tensor(shape: [1], values: [Tensor.binaryCrossEntropy(logits: logits, targets: targets, divisor: divisor).loss])
    }
    public func meanSquaredError(_ x: Tensor, target: Tensor, weights: Tensor?, divisor: Int?) -> Tensor {
        Tensor(shape: [1], values: [Tensor.meanSquaredError(x, target: target, weights: weights, divisor: divisor).loss])
    }

    public func withoutGradient(_ name: String, _ inputs: [Tensor], _ body: ([Tensor]) -> Tensor) -> Tensor { body(inputs) }

    public mutating func checkpointed(_ inputs: [Tensor], _ body: @escaping (inout Eager, [Tensor]) -> Tensor) -> Tensor {
        body(&self, inputs)
    }
}

extension Eager: ConvolutionContext {
    public func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, _ geometry: ConvolutionGeometry) -> Tensor {
        x.convolution(weight: weight, bias: bias, geometry)
    }
    public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        Tensor.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps).output
    }
    public func upsampleNearest(_ x: Tensor, factor: Int) -> Tensor { x.upsampledNearest(factor) }
    public func batchNorm(_ x: Tensor, weight: Tensor, bias: Tensor, running: BatchNormStatistics, eps: Float) -> Tensor {
        Tensor.batchNorm(x, weight: weight, bias: bias, running: running, eps: eps, training: false).output
    }
    public func pixelShuffle(_ x: Tensor, factor: Int, inverse: Bool) -> Tensor { x.pixelShuffled(factor, inverse: inverse) }
}
