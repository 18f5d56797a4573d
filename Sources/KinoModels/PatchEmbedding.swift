import KinoTensor

/// A patch or tubelet embedding (`Conv2d`/`Conv3d` with VALID padding, HF
/// `embeddings.patch_embeddings.projection`).
public struct PatchEmbedding: ParameterContainer, Sendable {
    /// `[D, C, kh, kw]` or `[D, C, kt, kh, kw]`.
    public var weight: Parameter
    public var bias: Parameter
    /// Defaults to the kernel (non-overlapping patches).
    public var stride: [Int]?

    static func load(_ source: any WeightSource, _ key: String, shape: [Int], stride: [Int]? = nil) throws -> PatchEmbedding {
        PatchEmbedding(weight: try source.parameter(key + ".weight", shape: shape, role: .matrix),
                       bias: try source.parameter(key + ".bias", shape: [shape[0]], role: .bias), stride: stride)
    }

    /// `[B, tokens, D]` from `[B, C, H, W]` or `[B, T, C, H, W]`.
    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        c.patchEmbedding(x, weight: c.parameter(weight), bias: c.parameter(bias), stride: stride)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&weight)
        try body(&bias)
    }
}
