// Prompt tuning (visual prompt tuning, Jia et al. 2022, as PETL_AST applies it to AST) and
// prefix tuning (Li & Liang 2021: learned keys and values in every attention layer).
import KinoTensor

/// Learned tokens inserted after the CLS token, without positional embedding.
///
/// Shallow: `[CLS, P₁…Pₙ, rest]` enters the first block. Deep: before every later block the
/// tokens `[1, 1+n)` are replaced by that block's own prompts. AST's distillation token is
/// dropped (`droppedTokens` 1), as PETL_AST does; its head then reads the CLS token alone.
public struct PromptTokens: ParameterContainer, Sendable {
    /// `[1, n, D]`, entering the first block.
    public var first: Parameter
    /// One `[1, n, D]` per block after the first (deep prompts); empty for shallow ones.
    public var deep: [Parameter]
    /// Tokens after CLS removed before the prompts go in.
    public var droppedTokens: Int

    public init(first: Parameter, deep: [Parameter], droppedTokens: Int) {
        self.first = first
        self.deep = deep
        self.droppedTokens = droppedTokens
    }

    public var count: Int { first.shape[1] }

    /// Uniform in ±`bound` (PETL_AST: `√(6/(3·16·16 + 768))` = 0.0625 at width 768).
    public init(key: String, count: Int, width: Int, layers: Int, deep isDeep: Bool, droppedTokens: Int, bound: Float,
                random: inout some RandomSource) {
        first = Parameter(key: key + ".prompt_embeddings", value: random.uniform([1, count, width], in: -bound...bound))
        deep = isDeep ? (1..<max(1, layers)).map {
            Parameter(key: key + ".deep_prompt_embeddings.\($0)", value: random.uniform([1, count, width], in: -bound...bound))
        } : []
        self.droppedTokens = droppedTokens
    }

    func broadcast<C: ConvolutionContext>(_ p: Parameter, batch: Int, _ c: inout C) -> C.Value {
        c.add(c.constant(Tensor(zeros: [batch, count, p.shape[2]])), c.parameter(p))
    }

    /// `[CLS, P, tokens after the dropped ones]`.
    func insert<C: ConvolutionContext>(into x: C.Value, _ c: inout C) -> C.Value {
        let shape = c.tensor(x).shape
        return c.concatenate([c.slice(x, axis: 1, 0 ..< 1), broadcast(first, batch: shape[0], &c),
                              c.slice(x, axis: 1, 1 + droppedTokens ..< shape[1])], axis: 1)
    }

    /// Block `block`'s input with its own prompts in place of the previous ones.
    func replace<C: ConvolutionContext>(in x: C.Value, block: Int, _ c: inout C) -> C.Value {
        guard block >= 1, block - 1 < deep.count else { return x }
        let shape = c.tensor(x).shape
        return c.concatenate([c.slice(x, axis: 1, 0 ..< 1), broadcast(deep[block - 1], batch: shape[0], &c),
                              c.slice(x, axis: 1, 1 + count ..< shape[1])], axis: 1)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&first)
        try deep.visitParameters(body)
    }
}

/// Learned keys and values of one attention layer, `[1, n, D]` each, inserted after the
/// projections at position 1 (after the CLS token's), queries unchanged.
public struct PrefixTokens: ParameterContainer, Sendable {
    public var keys: Parameter
    public var values: Parameter

    public init(keys: Parameter, values: Parameter) {
        self.keys = keys
        self.values = values
    }

    public init(key: String, count: Int, width: Int, bound: Float, random: inout some RandomSource) {
        keys = Parameter(key: key + ".prefix_keys", value: random.uniform([1, count, width], in: -bound...bound))
        values = Parameter(key: key + ".prefix_values", value: random.uniform([1, count, width], in: -bound...bound))
    }

    public var count: Int { keys.shape[1] }

    func extend<C: ConvolutionContext>(_ x: C.Value, with p: Parameter, _ c: inout C) -> C.Value {
        let shape = c.tensor(x).shape
        let table = c.add(c.constant(Tensor(zeros: [shape[0], count, shape[2]])), c.parameter(p))
        return c.concatenate([c.slice(x, axis: 1, 0 ..< 1), table, c.slice(x, axis: 1, 1 ..< shape[1])], axis: 1)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try body(&keys)
        try body(&values)
    }
}
