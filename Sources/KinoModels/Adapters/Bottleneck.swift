// The bottleneck adapter of Houlsby et al. 2019 and Pfeiffer et al. 2021:
// `A(x) = W_up·GELU(W_down·x + b_down) + b_up`.
import KinoTensor

/// Down-projection, exact GELU, up-projection.
///
/// Initialisation: `W_down` Xavier-uniform, `b_down`, `W_up`, `b_up` zero, so the block starts as
/// the base model and every tensor gets a gradient from the first step. PETL_AST zero-initialises
/// all four (its quirk B): then `W_down`, `b_down` and `W_up` get exactly zero gradient forever and
/// only `b_up` trains, one learned bias per layer. Kino does not copy that.
public struct Bottleneck: ParameterContainer, Sendable {
    public var down: Linear
    public var up: Linear

    public init(down: Linear, up: Linear) {
        self.down = down
        self.up = up
    }

    /// A new adapter `width → size → width` under `key` (`….adapter_ffn`).
    public init(key: String, width: Int, size: Int, random: inout some RandomSource) {
        let bound = (6 / Float(width + size)).squareRoot()
        down = Linear(weight: Parameter(key: key + ".down.weight", value: random.uniform([size, width], in: -bound...bound)),
                      bias: Parameter(key: key + ".down.bias", value: Tensor(zeros: [size])))
        up = Linear(weight: Parameter(key: key + ".up.weight", value: Tensor(zeros: [width, size])),
                    bias: Parameter(key: key + ".up.bias", value: Tensor(zeros: [width])))
    }

    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        up(c.activation(down(x, &c), .gelu), &c)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try down.visitParameters(body)
        try up.visitParameters(body)
    }
}
