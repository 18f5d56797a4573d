// Where adapters sit in the shared encoder block (PETL_AST's ASTLayer_adapter placement table,
// specs/models.md §7.2), and the per-layer slot that holds them. An empty slot is the HF block
// exactly: the forward takes the same ops in the same order.
import KinoTensor

/// How an adapter's output joins the block's residual stream.
public struct AdapterPlacement: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Beside the sub-layer, reading the sub-layer's (normalised) input.
        case parallel
        /// After the sub-layer, reading its output.
        case sequential
    }
    public var mode: Mode
    /// Also add the adapter's input to the stream (PETL_AST's `apply_residual`).
    public var residual: Bool

    public init(mode: Mode, residual: Bool) {
        self.mode = mode
        self.residual = residual
    }

    /// PETL_AST's README advice: parallel without the residual.
    public static let parallel = AdapterPlacement(mode: .parallel, residual: false)
    /// PETL_AST's README advice: sequential with the residual.
    public static let sequential = AdapterPlacement(mode: .sequential, residual: true)

    /// The stream after a sub-layer: `x` the stream before it, `input` the sub-layer's
    /// normalised input (`u` or `v`), `output` what the sub-layer computed (`a` or `f`).
    ///
    /// ```
    /// parallel,   no residual: x + out + A(in)
    /// parallel,   residual   : x + out + A(in) + in
    /// sequential, no residual: x + A(out)
    /// sequential, residual   : x + out + A(out)
    /// ```
    func join<C: ConvolutionContext>(stream x: C.Value, input: C.Value, output: C.Value, adapter: AdapterModule,
                                     _ c: inout C) -> C.Value {
        switch (mode, residual) {
        case (.parallel, false): return c.add(c.add(x, output), adapter(input, &c))
        case (.parallel, true): return c.add(c.add(c.add(x, output), adapter(input, &c)), input)
        case (.sequential, false): return c.add(x, adapter(output, &c))
        case (.sequential, true): return c.add(c.add(x, output), adapter(output, &c))
        }
    }
}

/// A token-wise module mapping `[B, N, D]` to `[B, N, D]`.
public enum AdapterModule: ParameterContainer, Sendable {
    case bottleneck(Bottleneck)
    case conformer(ConformerAdapter)

    public func callAsFunction<C: ConvolutionContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        switch self {
        case .bottleneck(let m): m(x, &c)
        case .conformer(let m): m(x, &c)
        }
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        switch self {
        case .bottleneck(var m): try m.visitParameters(body); self = .bottleneck(m)
        case .conformer(var m): try m.visitParameters(body); self = .conformer(m)
        }
    }

    mutating func visitBuffers(_ body: (inout BatchNormStatistics) throws -> Void) rethrows {
        if case .conformer(var m) = self {
            try body(&m.running)
            self = .conformer(m)
        }
    }
}

/// An adapter at one site with its placement.
public struct PlacedAdapter: ParameterContainer, Sendable {
    public var module: AdapterModule
    public var placement: AdapterPlacement

    public init(_ module: AdapterModule, placement: AdapterPlacement) {
        self.module = module
        self.placement = placement
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try module.visitParameters(body)
    }
}

/// The adapters of one encoder block: after multi-head attention (Houlsby's `A_M`), after the
/// feed-forward network (`A_F`, Houlsby and Pfeiffer), and learned prefix keys and values.
public struct BlockAdapters: ParameterContainer, Sendable {
    public var attention: PlacedAdapter?
    public var feedForward: PlacedAdapter?
    public var prefix: PrefixTokens?

    public init(attention: PlacedAdapter? = nil, feedForward: PlacedAdapter? = nil, prefix: PrefixTokens? = nil) {
        self.attention = attention
        self.feedForward = feedForward
        self.prefix = prefix
    }

    public var isEmpty: Bool { attention == nil && feedForward == nil && prefix == nil }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try attention.visitParameters(body)
        try feedForward.visitParameters(body)
        try prefix.visitParameters(body)
    }

    mutating func visitBuffers(_ body: (inout BatchNormStatistics) throws -> Void) rethrows {
        if attention != nil { try attention!.module.visitBuffers(body) }
        if feedForward != nil { try feedForward!.module.visitBuffers(body) }
    }
}
