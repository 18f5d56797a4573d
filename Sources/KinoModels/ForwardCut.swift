// Splitting a forward where everything before the split is frozen: the frozen part runs once per
// input and its output is cached, so training an epoch costs only the part that learns (a linear
// probe on a frozen backbone; the factorised encoder's temporal half over a frozen spatial encoder).
import Foundation
import KinoTensor

/// A point in a model's forward pass: what comes before it maps one sample to a feature tensor
/// of ``featureShape``; what comes after takes those features to the model's outputs.
public struct ForwardCut: Sendable, Equatable {
    /// `head` (everything but the classification head) or `spatial` (the factorised encoder's
    /// spatial stream).
    public var name: String
    /// One sample's features, without the batch dimension.
    public var featureShape: [Int]
    /// Every parameter after the cut has a key starting with one of these.
    public var suffixRoots: [String]

    public init(name: String, featureShape: [Int], suffixRoots: [String]) {
        self.name = name
        self.featureShape = featureShape
        self.suffixRoots = suffixRoots
    }

    /// Whether the parameter `key` runs after the cut.
    public func isAfter(_ key: String) -> Bool { suffixRoots.contains { key.hasPrefix($0) } }
}

extension KinoModel {
    /// The latest of ``cuts`` that every trainable parameter comes after: the largest frozen
    /// prefix, whose output can be cached. `nil` when something before every cut trains (LoRA in
    /// the encoder, full fine-tuning) or the model has no cut.
    public var frozenCut: ForwardCut? {
        let trainable = allParameters.filter(\.isTrainable).map(\.key)
        return cuts.first { cut in trainable.allSatisfy(cut.isAfter) }
    }

    /// The frozen prefix on a batch `[B] + sampleShape`, eagerly: `[B] + cut.featureShape`.
    /// - Throws: ``ModelError/inputShape(name:expected:found:)``.
    public func features(_ input: Tensor, at cut: ForwardCut) throws -> Tensor {
        try checkInput(input)
        var e = Eager()
        return features(input, at: cut, in: &e)
    }
}

/// A model run from one of its cuts: its input is the features there, its parameters (keys,
/// trainability, buffers) are the base model's, so a trainer, a checkpoint or an adapter file
/// sees the base model. Parameters before the cut are carried but never used.
public struct CutModel<Base: KinoModel>: KinoModel {
    public internal(set) var base: Base
    public let cut: ForwardCut

    /// - Precondition: `cut` is one of `base.cuts`.
    public init(_ base: Base, at cut: ForwardCut) {
        precondition(base.cuts.contains(cut), "\(cut.name) is not a cut of \(base.architecture)")
        self.base = base
        self.cut = cut
    }

    public var architecture: String { base.architecture }
    public var labels: [String] { base.labels }
    public var inputName: String { "features(\(cut.name))" }
    public var sampleShape: [Int] { cut.featureShape }
    public var scoring: LabelScoring { base.scoring }
    public var unusedKeys: [String] {
        get { base.unusedKeys }
        set { base.unusedKeys = newValue }
    }
    public var checkpointRoot: String { base.checkpointRoot }
    public func configurationJSON() throws -> Data { try base.configurationJSON() }
    public var cuts: [ForwardCut] { [] }

    public mutating func visitEncoders(_ body: (inout TransformerEncoder) throws -> Void) rethrows {
        try base.visitEncoders(body)
    }

    public mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try base.visitParameters(body)
    }

    public mutating func replaceHead(labels: [String], multiLabel: Bool, random: inout SplitMix64Source) throws {
        try base.replaceHead(labels: labels, multiLabel: multiLabel, random: &random)
    }

    public func forward<C: ConvolutionContext>(_ input: C.Value, in c: inout C) -> ModelValues<C.Value> {
        base.forward(features: input, after: cut, in: &c)
    }
}
