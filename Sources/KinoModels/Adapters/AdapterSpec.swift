// What to train: one parameter-efficient method (or a baseline) and its options, attached to
// any model with encoders without editing the model's code.
import Foundation
import KinoTensor

/// Training methods: three baselines and seven adapters.
public enum AdapterMethod: String, Sendable, Codable, CaseIterable {
    /// Every weight trains (writes a complete model folder).
    case full
    /// The classification head only (linear probe).
    case linear
    /// Biases and the head (Ben Zaken et al. 2022).
    case bitfit
    case lora
    case ia3
    /// Bottleneck adapters after attention and after the feed-forward network.
    case houlsby
    /// A bottleneck adapter after the feed-forward network only.
    case pfeiffer
    /// PETL_AST's convolution adapter, at Pfeiffer's or Houlsby's sites.
    case conformer
    case prompt
    case prefix

    /// Whether the trained weights are a purely linear change a merge can fold into the base.
    public var isMergeable: Bool { self == .lora || self == .ia3 }
}

/// The block's linear layers as users name them, in either transformers generation.
public enum LinearTarget: String, Sendable, Codable, CaseIterable {
    case query, key, value, attentionOutput = "attention_output", intermediate, output

    /// The HF legacy module name under the block.
    public var legacyName: String { EncoderLayer.linearNames[LinearTarget.allCases.firstIndex(of: self)!] }

    /// Accepts `query`/`q_proj`, `key`/`k_proj`, `value`/`v_proj`, `attention.output.dense`/`o_proj`/
    /// `attention_output`, `intermediate`/`intermediate.dense`/`fc1`, `output`/`fc2` (the
    /// feed-forward output), and `all`, `attention` (q, k, v, o) and `mlp` (fc1, fc2).
    public static func parse(_ text: String) throws -> [LinearTarget] {
        var out: [LinearTarget] = []
        for raw in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !raw.isEmpty {
            let add: [LinearTarget]
            switch raw {
            case "all": add = allCases
            case "attention": add = [.query, .key, .value, .attentionOutput]
            case "mlp", "ffn", "feed_forward": add = [.intermediate, .output]
            case "query", "q", "q_proj", "attention.attention.query": add = [.query]
            case "key", "k", "k_proj", "attention.attention.key": add = [.key]
            case "value", "v", "v_proj", "attention.attention.value": add = [.value]
            case "attention_output", "o", "o_proj", "attention.output.dense", "dense": add = [.attentionOutput]
            case "intermediate", "intermediate.dense", "fc1": add = [.intermediate]
            case "output", "fc2", "mlp.fc2": add = [.output]
            default:
                throw ModelError.invalidAdapter(path: "--targets", reason: "unknown layer \"\(raw)\" (known: query, key, value, attention_output, intermediate, output, or q_proj, k_proj, v_proj, o_proj, fc1, fc2, all, attention, mlp)")
            }
            for t in add where !out.contains(t) { out.append(t) }
        }
        guard !out.isEmpty else { throw ModelError.invalidAdapter(path: "--targets", reason: "no layer named") }
        return allCases.filter(out.contains)
    }
}

/// A method with its options. Defaults follow PETL_AST's command line where it has one
/// (bottleneck reduction 96, kernel 31, 25 deep prompts, 24 prefix tokens) and PEFT's elsewhere.
public struct AdapterSpec: Sendable, Codable, Equatable {
    public var method: AdapterMethod
    /// LoRA rank.
    public var rank: Int = 8
    /// LoRA alpha: the update is scaled by `alpha / r` (`alpha / √r` with ``rankStabilised``).
    public var alpha: Float = 16
    public var dropout: Float = 0
    public var rankStabilised = false
    /// Layers LoRA or IA³ change. IA³'s feed-forward scale is the input of `output`.
    public var targets: [LinearTarget] = [.query, .value]
    /// Bottleneck size `round(D / reduction)` (at least 1).
    public var reduction: Int = 96
    public var placement: AdapterPlacement = .parallel
    /// The Conformer adapter at both sites (Houlsby) instead of after the feed-forward only.
    public var conformerAtAttention = false
    public var kernelSize: Int = 31
    /// Prompt or prefix length.
    public var tokens: Int = 25
    /// Deep prompts (one set per block) or only before the first block.
    public var deep = true
    /// Encoders (by key prefix, `spatial.`) that get no adapter and stay frozen with their
    /// embeddings, whatever the method: the frozen-spatial recipe for the factorised encoder.
    /// Recorded in Kino's own adapter files; PEFT's types cannot say it, so LoRA, IA³, prompt and
    /// prefix tuning refuse it.
    public var frozenEncoders: [String]?

    public init(method: AdapterMethod) {
        self.method = method
        switch method {
        case .ia3: targets = [.key, .value, .output]
        case .prefix: tokens = 24
        default: break
        }
    }

    /// Bottleneck width for hidden size `width`.
    public func bottleneck(width: Int) -> Int { max(1, Int((Double(width) / Double(max(1, reduction))).rounded())) }

    /// Checks the options make sense.
    public func validate() throws {
        func bad(_ reason: String) -> ModelError { ModelError.invalidAdapter(path: "options", reason: reason) }
        if method == .lora {
            guard rank >= 1 else { throw bad("LoRA rank must be at least 1, not \(rank)") }
            guard alpha.isFinite, alpha > 0 else { throw bad("LoRA alpha must be positive") }
        }
        guard (0..<1).contains(dropout) else { throw bad("dropout must be in [0, 1), not \(dropout)") }
        guard reduction >= 1 else { throw bad("reduction must be at least 1") }
        guard kernelSize >= 1, kernelSize % 2 == 1 else { throw bad("kernel size must be odd and positive, not \(kernelSize)") }
        if method == .prompt || method == .prefix { guard tokens >= 1 else { throw bad("need at least one token") } }
        if let frozen = frozenEncoders, !frozen.isEmpty, [.lora, .ia3, .prompt, .prefix].contains(method) {
            throw bad("\(method.rawValue) with frozen encoders (\(frozen.joined(separator: ", "))): PEFT's \(method.rawValue) files cannot name one encoder of a model; use full, linear, bitfit, houlsby, pfeiffer or conformer")
        }
        if method == .ia3, !targets.contains(where: { $0 != .intermediate }) {
            throw bad("IA³ scales key, value, query, attention_output or output layers")
        }
    }

    var frozenSummary: String {
        guard let frozen = frozenEncoders, !frozen.isEmpty else { return "" }
        return ", frozen " + frozen.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }.joined(separator: ", ")
    }

    /// A one-line description for logs.
    public var summary: String {
        switch method {
        case .full, .linear, .bitfit: return method.rawValue + frozenSummary
        case .lora: return "lora r=\(rank) alpha=\(alpha)\(rankStabilised ? " rslora" : "") on \(targets.map(\.rawValue).joined(separator: ","))"
        case .ia3: return "ia3 on \(targets.map(\.rawValue).joined(separator: ","))"
        case .houlsby, .pfeiffer:
            return "\(method.rawValue) reduction \(reduction) \(placement.mode.rawValue)\(placement.residual ? " +residual" : "")" + frozenSummary
        case .conformer:
            return "conformer reduction \(reduction) k=\(kernelSize) \(placement.mode.rawValue)\(placement.residual ? " +residual" : "")\(conformerAtAttention ? " at both sites" : "")" + frozenSummary
        case .prompt: return "prompt \(tokens) tokens \(deep ? "deep" : "shallow")"
        case .prefix: return "prefix \(tokens) tokens"
        }
    }
}
