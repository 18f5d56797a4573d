// Adapter folders: `adapter_config.json` + `adapter_model.safetensors`, the two files PEFT
// writes and reads (specs/adapters-family.md §9). LoRA and IA³ are PEFT's own layout; the
// methods PEFT lacks (or cannot attach to these models) use the same two files with a Kino
// `peft_type` (docs/ADAPTERS.md).
import Foundation
import KinoFiles
import KinoTensor

/// Reading and writing adapter folders.
public enum AdapterFolder {
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    /// Prefix of every tensor of a tuner adapter.
    static let tunerPrefix = "base_model.model."

    /// `peft_type` for each method.
    public static func peftType(_ method: AdapterMethod) -> String {
        switch method {
        case .lora: "LORA"
        case .ia3: "IA3"
        case .prefix: "PREFIX_TUNING"
        case .prompt: "KINO_PROMPT"
        case .bitfit: "KINO_BITFIT"
        case .linear: "KINO_LINEAR_PROBE"
        case .houlsby: "KINO_HOULSBY"
        case .pfeiffer: "KINO_PFEIFFER"
        case .conformer: "KINO_CONFORMER"
        case .full: "KINO_FULL"
        }
    }

    // MARK: Writing

    /// Writes `model`'s trainable weights (and adapter buffers) as an adapter for `spec` into
    /// `directory`, whole or not at all (a temporary sibling folder, then a rename).
    ///
    /// - Parameters:
    ///   - base: the base model folder, recorded as `base_model_name_or_path`.
    ///   - naming: module names of transformers ≤ 4.x (`legacy`) or ≥ 5 (`v5`).
    /// - Throws: ``ModelError/unwritable(path:reason:)``.
    public static func write<M: KinoModel>(_ model: M, spec: AdapterSpec, base: String, naming: AdapterNaming = .v5,
                                           to directory: String) throws {
        guard spec.method != .full else {
            throw ModelError.unwritable(path: directory, reason: "full fine-tuning writes a model folder, not an adapter")
        }
        var tensors: [String: Tensor] = [:]
        var prefixKeys: [Tensor] = []
        for p in model.allParameters where p.isTrainable {
            if spec.method == .prefix, p.key.hasSuffix(".prefix_keys") || p.key.hasSuffix(".prefix_values") {
                prefixKeys.append(p.value)
                continue
            }
            tensors[tunerPrefix + naming.spell(model.canonicalKey(p.key))] = p.value
        }
        for (key, value) in model.buffers { tensors[tunerPrefix + naming.spell(model.canonicalKey(key))] = value }
        if spec.method == .prefix {
            // PEFT's table: [n, L·2·D], row blocks 2l (keys) and 2l+1 (values) of layer l.
            let n = prefixKeys.first?.shape[1] ?? 0
            let width = prefixKeys.first?.shape[2] ?? 0
            var table = Tensor(zeros: [n, prefixKeys.count * width])
            for (j, t) in prefixKeys.enumerated() {
                for row in 0..<n {
                    for d in 0..<width { table.storage[row * prefixKeys.count * width + j * width + d] = t.storage[row * width + d] }
                }
            }
            tensors["prompt_embeddings"] = table
        }
        var metadata = ["format": "pt"]
        let labelMap = Dictionary(uniqueKeysWithValues: model.labels.enumerated().map { (String($0.offset), $0.element) })
        if let data = try? JSONSerialization.data(withJSONObject: labelMap, options: [.sortedKeys]) {
            metadata["id2label"] = String(decoding: data, as: UTF8.self)
        }
        metadata["kino.scoring"] = model.scoring.rawValue
        let config = try configuration(for: model, spec: spec, base: base, naming: naming)
        let fm = FileManager.default
        let temporary = AtomicFile.temporarySibling(of: directory)
        do {
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            try config.write(to: URL(fileURLWithPath: temporary + "/" + configName))
            try SafeTensorsWriter.write(tensors, metadata: metadata, to: temporary + "/" + weightsName)
            if fm.fileExists(atPath: directory) { try fm.removeItem(atPath: directory) }
            try fm.moveItem(atPath: temporary, toPath: directory)
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw ModelError.unwritable(path: directory, reason: plainDescription(of: error))
        }
    }

    /// `adapter_config.json`: PEFT's fields for LoRA, IA³ and prefix tuning, the spec otherwise.
    static func configuration<M: KinoModel>(for model: M, spec: AdapterSpec, base: String, naming: AdapterNaming) throws -> Data {
        var object: [String: Any] = [
            "peft_type": peftType(spec.method),
            "base_model_name_or_path": base,
            "task_type": NSNull(),
            "inference_mode": true,
        ]
        switch spec.method {
        case .lora:
            object["r"] = spec.rank
            object["lora_alpha"] = spec.alpha
            object["lora_dropout"] = spec.dropout
            object["use_rslora"] = spec.rankStabilised
            object["use_dora"] = false
            object["bias"] = "none"
            object["fan_in_fan_out"] = false
            object["init_lora_weights"] = true
            object["target_modules"] = targetModules(model, spec.targets, naming: naming)
            object["modules_to_save"] = ["classifier"]
        case .ia3:
            object["target_modules"] = targetModules(model, spec.targets, naming: naming)
            object["feedforward_modules"] = spec.targets.contains(.output) ? targetModules(model, [.output], naming: naming) : []
            object["fan_in_fan_out"] = false
            object["init_ia3_weights"] = true
            object["modules_to_save"] = ["classifier"]
        case .prefix:
            var layers = 0, heads = 1, width = 0
            var copy = model
            copy.visitEncoders { e in
                layers += e.layers.count
                heads = e.layers.first?.heads ?? 1
                width = e.width
            }
            object["num_virtual_tokens"] = spec.tokens
            object["token_dim"] = width
            object["num_transformer_submodules"] = 1
            object["num_attention_heads"] = heads
            object["num_layers"] = layers
            object["prefix_projection"] = false
            object["modules_to_save"] = ["classifier"]
        default:
            object["modules_to_save"] = ["classifier"]
        }
        // peft 0.13 refuses keys it does not know (a TypeError), so PEFT's own types get none of Kino's.
        if !object.keys.contains("r"), spec.method != .ia3, spec.method != .prefix {
            let specData = try JSONEncoder().encode(spec)
            object["kino_adapter"] = try JSONSerialization.jsonObject(with: specData)
            object["kino_naming"] = naming.rawValue
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// PEFT's `target_modules`: short names (`["query", "value"]`) when PEFT's suffix rule picks
    /// exactly those layers, else a regular expression over whole module names (in 4.x naming
    /// `output.dense` is also the tail of `attention.output.dense`).
    static func targetModules<M: KinoModel>(_ model: M, _ targets: [LinearTarget], naming: AdapterNaming) -> Any {
        func relative(_ t: LinearTarget) -> String {
            naming.spell("encoder.layer.0." + t.legacyName).components(separatedBy: ".")
                .dropFirst(naming == .legacy ? 3 : 2).joined(separator: ".")
        }
        // Heads and poolers have `dense` layers too (AST's classifier.dense, ViT's pooler.dense).
        let modules = LinearTarget.allCases.map { "m." + relative($0) } + ["m.classifier.dense", "m.pooler.dense", "m.classifier"]
        let selected = Set(targets.map { "m." + relative($0) })
        let short = targets.map { relative($0).components(separatedBy: ".").last! }
        let picked = modules.filter { m in short.contains { m.hasSuffix("." + $0) } }
        if Set(picked) == selected { return short }
        let layer = naming == .legacy ? "encoder\\.layer\\.\\d+\\." : "layers\\.\\d+\\."
        let tails = targets.map { relative($0).replacingOccurrences(of: ".", with: "\\.") }
        return ".*" + layer + "(" + tails.joined(separator: "|") + ")"
    }
}
