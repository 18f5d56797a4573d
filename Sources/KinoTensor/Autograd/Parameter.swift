/// A weight, the checkpoint key it was read from (and is written back under), and whether
/// training may change it.
///
/// The key is the single name of a parameter everywhere: saving, counting, freezing, the
/// optimiser's moments and adapter files all use it.
public struct Parameter: Sendable, Equatable {
    /// The on-disk name, e.g. `vit.encoder.layer.3.attention.attention.query.weight`.
    public let key: String
    public var value: Tensor
    /// Frozen parameters enter a recorded forward as constants: no gradient, no weight product.
    public var isTrainable: Bool

    public init(key: String, value: Tensor, isTrainable: Bool = true) {
        self.key = key
        self.value = value
        self.isTrainable = isTrainable
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }
}

/// Gradients of a loss keyed by ``Parameter/key``.
public typealias Gradients = [String: Tensor]
