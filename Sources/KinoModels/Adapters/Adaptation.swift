// Attaching a method to a loaded model: which modules are added, which weights train.
import Foundation
import KinoTensor

extension KinoModel {
    /// Keys of the classification head (`classifier.*`: AST's includes its layer norm).
    public static var headPattern: KeyPattern { "classifier.*" }

    /// The encoder key prefix of a block (`audio_spectrogram_transformer.encoder.layer.3.`).
    static func blockPrefix(_ layer: EncoderLayer) -> String {
        String(layer.layerNormBefore.weight.key.dropLast("layernorm_before.weight".count))
    }

    /// The key prefix of an encoder (`vit.`, `spatial.`): its final norm's key without
    /// `layernorm.weight`, or, without a final norm, its first block's key without
    /// `encoder.layer.0.layernorm_before.weight`.
    static func encoderPrefix(_ encoder: TransformerEncoder) -> String {
        let (key, suffix) = encoder.finalNorm.map { ($0.weight.key, "layernorm.weight") }
            ?? (encoder.layers.first?.layerNormBefore.weight.key ?? "", "encoder.layer.0.layernorm_before.weight")
        return key.hasSuffix(suffix) ? String(key.dropLast(suffix.count)) : ""
    }

    /// The HF module name of `key` with the checkpoint root (keys loaded from a file without the
    /// `vit.` prefix get it back); head keys stay bare.
    public func canonicalKey(_ key: String) -> String { Self.canonical(key, root: checkpointRoot) }

    static func canonical(_ key: String, root: String) -> String {
        if root.isEmpty || key.hasPrefix(root) || key.hasPrefix("classifier") { return key }
        return root + key
    }

    /// Attaches `spec`'s modules and marks exactly the weights it trains trainable (everything
    /// else frozen). New modules draw their initial weights from `random`.
    ///
    /// Trainable besides the method's own weights: the head always; for the bottleneck and
    /// Conformer adapters also each block's `layernorm_after` (and `layernorm_before` for
    /// Houlsby's) and the encoders' final layer norm, as PETL_AST trains them.
    /// - Throws: ``ModelError/notAdaptable(architecture:reason:)``.
    public mutating func attach(_ spec: AdapterSpec, random: inout SplitMix64Source) throws {
        try attach(spec, random: &random, linears: nil)
    }

    /// ``attach(_:random:)`` with LoRA or IA³ on the linear layers `linears` picks by their
    /// canonical module name (an adapter file's own targets) instead of `spec.targets`.
    mutating func attach(_ spec: AdapterSpec, random: inout SplitMix64Source, linears: ((String) -> Bool)?) throws {
        try spec.validate()
        var count = 0
        visitEncoders { _ in count += 1 }
        if count == 0, spec.method != .full {
            throw ModelError.notAdaptable(architecture: architecture, reason: "it has no transformer encoder")
        }
        freeze(matching: .all)
        var trainable: [String] = []
        let dropsDistillation = architecture == "ASTForAudioClassification"
        // PETL_AST's prompt/prefix init bound √(6/(3·p² + D)) with p = 16 (every HF model here).
        let patch: Float = 16, root = checkpointRoot
        let frozen = spec.frozenEncoders ?? []
        var prefixes: [String] = []
        visitEncoders { prefixes.append(Self.encoderPrefix($0)) }
        if let missing = frozen.first(where: { !prefixes.contains($0) }) {
            throw ModelError.notAdaptable(architecture: architecture, reason: "it has no encoder \(missing) to freeze (encoders: \(prefixes.map { $0.isEmpty ? "(root)" : $0 }.joined(separator: ", ")))")
        }
        try visitEncoders { encoder in
            let width = encoder.width
            let prefix = Self.encoderPrefix(encoder)
            if frozen.contains(prefix) { return }
            for i in encoder.layers.indices {
                let block = Self.blockPrefix(encoder.layers[i])
                switch spec.method {
                case .full, .linear, .bitfit:
                    break
                case .lora:
                    encoder.layers[i].visitLinears { linear, name in
                        guard linears?(Self.canonical(linear.baseKey, root: root)) ?? spec.targets.contains(where: { $0.legacyName == name })
                        else { return }
                        linear.delta = LowRankDelta(for: linear, rank: spec.rank, alpha: spec.alpha,
                                                    rankStabilised: spec.rankStabilised, dropout: spec.dropout, random: &random)
                    }
                case .ia3:
                    encoder.layers[i].visitLinears { linear, name in
                        let picked = linears?(Self.canonical(linear.baseKey, root: root)) ?? spec.targets.contains(where: { $0.legacyName == name })
                        guard picked else { return }
                        linear.scaling = FeatureScaling(for: linear, side: name == LinearTarget.output.legacyName ? .input : .output)
                    }
                case .houlsby, .pfeiffer, .conformer:
                    let size = spec.bottleneck(width: width)
                    func module(_ name: String) -> AdapterModule {
                        spec.method == .conformer
                            ? .conformer(ConformerAdapter(key: block + name, width: width, size: size, kernelSize: spec.kernelSize,
                                                          random: &random))
                            : .bottleneck(Bottleneck(key: block + name, width: width, size: size, random: &random))
                    }
                    let both = spec.method == .houlsby || (spec.method == .conformer && spec.conformerAtAttention)
                    if both {
                        encoder.layers[i].adapters.attention = PlacedAdapter(module("adapter_attention"), placement: spec.placement)
                        trainable.append(block + "layernorm_before.*")
                    }
                    encoder.layers[i].adapters.feedForward = PlacedAdapter(module("adapter_ffn"), placement: spec.placement)
                    trainable.append(block + "layernorm_after.*")
                case .prefix:
                    let bound = (6 / (3 * patch * patch + Float(width))).squareRoot()
                    encoder.layers[i].adapters.prefix = PrefixTokens(key: block + "attention.prefix", count: spec.tokens,
                                                                     width: width, bound: bound, random: &random)
                case .prompt:
                    break
                }
            }
            switch spec.method {
            case .houlsby, .pfeiffer, .conformer:
                trainable.append(prefix + "layernorm.*")
            case .prompt:
                let bound = (6 / (3 * patch * patch + Float(width))).squareRoot()
                encoder.prompts = PromptTokens(key: prefix + "encoder.prompts", count: spec.tokens, width: width,
                                               layers: encoder.layers.count, deep: spec.deep,
                                               droppedTokens: dropsDistillation ? 1 : 0,
                                               bound: bound, random: &random)
            default:
                break
            }
        }
        switch spec.method {
        case .full: unfreeze(matching: .all)
        case .linear: unfreeze(matching: Self.headPattern)
        // VideoMAE's query and value biases are `q_bias` and `v_bias`.
        case .bitfit: unfreeze(matching: KeyPattern("*.bias, *.q_bias, *.v_bias, classifier.*"))
        case .lora: unfreeze(matching: KeyPattern("*.lora_A.weight, *.lora_B.weight, classifier.*"))
        case .ia3: unfreeze(matching: KeyPattern("*.ia3_l, classifier.*"))
        case .houlsby, .pfeiffer, .conformer:
            unfreeze(matching: KeyPattern((["*.adapter_attention.*", "*.adapter_ffn.*", "classifier.*"] + trainable).joined(separator: ",")))
        case .prompt: unfreeze(matching: KeyPattern("*.prompt_embeddings, *.deep_prompt_embeddings.*, classifier.*"))
        case .prefix: unfreeze(matching: KeyPattern("*.prefix_keys, *.prefix_values, classifier.*"))
        }
        for prefix in frozen { freeze(matching: KeyPattern(prefix + "*")) }
    }

    /// Folds LoRA and IA³ into the base weights: afterwards the model is a plain HF model.
    /// - Throws: ``ModelError/notMergeable(kind:reason:)`` when a non-linear adapter is attached.
    public mutating func mergeAdapters() throws {
        var blocker: (kind: String, reason: String)?
        visitEncoders { encoder in
            if encoder.prompts != nil { blocker = ("prompt", "prompt tokens add inputs, not weights") }
            for layer in encoder.layers {
                if let a = layer.adapters.attention ?? layer.adapters.feedForward {
                    if case .conformer = a.module {
                        blocker = ("conformer", "the Conformer adapter has convolutions, a batch norm and a SiLU between its weights")
                    } else {
                        blocker = ("bottleneck", "a bottleneck adapter has a GELU between its two projections")
                    }
                }
                if layer.adapters.prefix != nil { blocker = ("prefix", "prefix keys and values are extra attention entries, not weights") }
            }
        }
        if let blocker { throw ModelError.notMergeable(kind: blocker.kind, reason: blocker.reason) }
        visitEncoders { encoder in
            for i in encoder.layers.indices {
                encoder.layers[i].visitLinears { linear, _ in
                    linear.mergeDelta()
                    linear.mergeScaling()
                }
            }
        }
    }
}
