// Reading an adapter folder onto a base model: every tensor must land on a module and every
// module the configuration adds must get its tensor (PEFT itself leaves a LoRA whose names do
// not match at zero without a word: specs/adapters-family.md §0).
import Foundation
import KinoFiles
import KinoTensor

/// What ``AdapterFolder/load(_:into:)`` attached.
public struct LoadedAdapter: Sendable {
    public var spec: AdapterSpec
    public var peftType: String
    /// Module names of the file's generation.
    public var naming: AdapterNaming
    /// Weights the adapter holds (trainable parameters of the adapted model).
    public var trainableParameters: Int
    public var tensorCount: Int
}

extension AdapterFolder {
    /// Attaches the adapter in `directory` to `model` and loads its weights.
    ///
    /// Reads PEFT's LoRA (`LORA`, plain and rsLoRA), `IA3` and `PREFIX_TUNING` files in either
    /// naming generation, and Kino's own `KINO_*` types. A new head in the file (another label
    /// count) replaces the model's, with the labels from the file's metadata.
    /// - Throws: ``ModelError/invalidAdapter(path:reason:)`` naming the key, module or field.
    @discardableResult
    public static func load<M: KinoModel>(_ directory: String, into model: inout M) throws -> LoadedAdapter {
        func fail(_ reason: String) -> ModelError { ModelError.invalidAdapter(path: directory, reason: reason) }
        let configPath = directory + "/" + configName, weightsPath = directory + "/" + weightsName
        let data: Data
        do {
            data = try RegularFile.contents(configPath, limit: 16 << 20)
        } catch let error as RegularFile.Failure {
            throw ModelError.unreadable(path: configPath, reason: error.reason)
        }
        guard let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw fail("\(configName) is not a JSON object")
        }
        guard let type = config["peft_type"] as? String else { throw fail("\(configName) has no peft_type") }
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: weightsPath)
        } catch {
            throw ModelError.unreadable(path: weightsPath, reason: plainDescription(of: error))
        }
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try ModelError.funnel { try file.tensor(name) } }
        let naming: AdapterNaming = tensors.keys.contains(where: AdapterNaming.isV5) ? .v5
            : (config["kino_naming"] as? String).flatMap(AdapterNaming.init(rawValue:)) ?? .legacy

        // The spec, and for PEFT's tuners which linear layers the file's targets pick.
        var spec: AdapterSpec
        var picks: ((String) -> Bool)?
        var targetText = ""
        switch type {
        case "LORA", "IA3":
            spec = AdapterSpec(method: type == "LORA" ? .lora : .ia3)
            if type == "LORA" {
                guard let r = config["r"] as? Int, r >= 1 else { throw fail("LoRA needs r ≥ 1") }
                spec.rank = r
                spec.alpha = (config["lora_alpha"] as? NSNumber)?.floatValue ?? 8
                spec.dropout = (config["lora_dropout"] as? NSNumber)?.floatValue ?? 0
                spec.rankStabilised = config["use_rslora"] as? Bool ?? false
                if config["use_dora"] as? Bool == true { throw fail("DoRA (use_dora) is not supported") }
                if let bias = config["bias"] as? String, bias != "none" { throw fail("bias \"\(bias)\" is not supported (only \"none\")") }
                for field in ["rank_pattern", "alpha_pattern"] {
                    if let p = config[field] as? [String: Any], !p.isEmpty { throw fail("\(field) is not supported") }
                }
            }
            if config["fan_in_fan_out"] as? Bool == true { throw fail("fan_in_fan_out is not supported") }
            if let layers = config["layers_to_transform"], !(layers is NSNull) { throw fail("layers_to_transform is not supported") }
            let targets = try TargetMatcher(config["target_modules"], field: "target_modules", directory: directory)
            targetText = targets.description
            picks = { targets.matches(naming.spell($0)) }
            if type == "IA3" {
                let ff = try TargetMatcher(config["feedforward_modules"] ?? [String](), field: "feedforward_modules", directory: directory)
                // Kino scales the input of a block's feed-forward output layer, and the output elsewhere.
                var copy = model
                let root = model.checkpointRoot
                var problem: String?
                copy.visitEncoders { e in
                    for var layer in e.layers {
                        layer.visitLinears { linear, name in
                            let key = naming.spell(M.canonical(linear.baseKey, root: root))
                            guard targets.matches(key) else { return }
                            let isFF = ff.matches(key), wantFF = name == LinearTarget.output.legacyName
                            if isFF != wantFF && problem == nil {
                                problem = isFF ? "feedforward_modules picks \(key), which Kino scales at its output (only the feed-forward output layer is scaled at its input)"
                                    : "\(key) is the feed-forward output but feedforward_modules does not list it"
                            }
                        }
                    }
                }
                if let problem { throw fail(problem) }
            }
        case "PREFIX_TUNING":
            spec = AdapterSpec(method: .prefix)
            guard let n = config["num_virtual_tokens"] as? Int, n >= 1 else { throw fail("PREFIX_TUNING needs num_virtual_tokens ≥ 1") }
            spec.tokens = n
            if config["prefix_projection"] as? Bool == true, tensors.keys.contains(where: { $0.contains("transform") }) {
                throw fail("a prefix projection MLP is not supported (save the projected table)")
            }
        default:
            guard type.hasPrefix("KINO_") else {
                throw fail("peft_type \"\(type)\" is not supported (known: LORA, IA3, PREFIX_TUNING, KINO_PROMPT, KINO_HOULSBY, KINO_PFEIFFER, KINO_CONFORMER, KINO_BITFIT, KINO_LINEAR_PROBE)")
            }
            guard let raw = config["kino_adapter"],
                  let specData = try? JSONSerialization.data(withJSONObject: raw),
                  let decoded = try? JSONDecoder().decode(AdapterSpec.self, from: specData) else {
                throw fail("\(configName) has no readable kino_adapter for peft_type \(type)")
            }
            guard peftType(decoded.method) == type else {
                throw fail("peft_type \(type) but kino_adapter describes \(decoded.method.rawValue)")
            }
            spec = decoded
        }

        // A new head: the file's classifier rows decide the label count.
        let saves = (config["modules_to_save"] as? [String]) ?? []
        let savesHead = saves.contains { $0 == "classifier" || $0.hasSuffix(".classifier") }
        if savesHead, let rows = headRows(tensors), rows != model.labels.count {
            var labels = (0..<rows).map { "LABEL_\($0)" }
            if let text = file.metadata["id2label"], let map = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] {
                for (k, v) in map { if let i = Int(k), labels.indices.contains(i) { labels[i] = v } }
            }
            let multi = file.metadata["kino.scoring"] == LabelScoring.sigmoid.rawValue
            var random = SplitMix64Source(seed: 0)
            try model.replaceHead(labels: labels, multiLabel: multi, random: &random)
        }

        var random = SplitMix64Source(seed: 0)
        try model.attach(spec, random: &random, linears: picks)
        if !savesHead { model.freeze(matching: M.headPattern) }
        if spec.method == .lora || spec.method == .ia3 {
            // The layers the file's targets picked, by block-relative name.
            var picked: Set<String> = []
            var copy = model
            copy.visitEncoders { e in
                for var layer in e.layers {
                    layer.visitLinears { l, name in if l.delta != nil || l.scaling != nil { picked.insert(name) } }
                }
            }
            spec.targets = LinearTarget.allCases.filter { picked.contains($0.legacyName) }
            if picked.isEmpty {
                throw fail("target_modules \(targetText) match no layer of this model under the \(naming.rawValue) module names its tensors use")
            }
        }

        // Every tensor onto a parameter or buffer, every trainable parameter from a tensor.
        var internalKey: [String: String] = [:]
        var expectedShape: [String: [Int]] = [:]
        var prefixOrder: [String] = []
        for p in model.allParameters where p.isTrainable {
            internalKey[model.canonicalKey(p.key)] = p.key
            expectedShape[p.key] = p.shape
            if p.key.hasSuffix(".prefix_keys") || p.key.hasSuffix(".prefix_values") { prefixOrder.append(p.key) }
        }
        for (key, value) in model.buffers {
            internalKey[model.canonicalKey(key)] = key
            expectedShape[key] = value.shape
        }
        var values: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            if spec.method == .prefix, name == "prompt_embeddings" || name.hasSuffix(".prompt_embeddings") && !name.contains("encoder") {
                let width = prefixOrder.isEmpty ? 0 : expectedShape[prefixOrder[0]]![2]
                guard tensor.shape == [spec.tokens, prefixOrder.count * width] else {
                    throw fail("prompt_embeddings has shape \(tensor.shape), this model needs \([spec.tokens, prefixOrder.count * width]) (\(prefixOrder.count / 2) layers × keys and values × \(width))")
                }
                for (j, key) in prefixOrder.enumerated() {
                    var t = Tensor(zeros: [1, spec.tokens, width])
                    for row in 0..<spec.tokens {
                        for d in 0..<width { t.storage[row * width + d] = tensor.storage[row * prefixOrder.count * width + j * width + d] }
                    }
                    values[key] = t
                }
                continue
            }
            var bare = name
            for prefix in [tunerPrefix, "base_model."] where bare.hasPrefix(prefix) {
                bare = String(bare.dropFirst(prefix.count))
                break
            }
            let canonical = AdapterNaming.legacy(bare)
            guard let key = internalKey[canonical] else {
                throw fail("tensor \"\(name)\" matches no \(spec.method.rawValue) module of the base model (\(model.architecture)); wrong base model, or target_modules that do not list it")
            }
            guard tensor.shape == expectedShape[key]! else {
                throw fail("tensor \"\(name)\" has shape \(tensor.shape), the base model needs \(expectedShape[key]!)")
            }
            values[key] = tensor
        }
        if let missing = expectedShape.keys.sorted().first(where: { values[$0] == nil }) {
            throw fail("no tensor for \(missing) (\(naming.spell(model.canonicalKey(missing))))")
        }
        try model.update(from: values)
        try model.updateBuffers(values)
        return LoadedAdapter(spec: spec, peftType: type, naming: naming, trainableParameters: model.trainableParameterCount,
                             tensorCount: tensors.count)
    }

    /// Rows of the head's last linear weight in a file, if it has one.
    static func headRows(_ tensors: [String: Tensor]) -> Int? {
        for suffix in ["classifier.dense.weight", "classifier.weight"] {
            if let t = tensors.first(where: { $0.key.hasSuffix(suffix) && !$0.key.contains("original_module") })?.value {
                return t.shape.first
            }
        }
        return nil
    }
}

/// PEFT's `target_modules`: a list of names (a module matches one it equals or ends with after
/// a dot) or one regular expression the whole module name must match.
struct TargetMatcher: CustomStringConvertible {
    var names: [String] = []
    var pattern: NSRegularExpression?
    var source: String

    init(_ value: Any?, field: String, directory: String) throws {
        if let list = value as? [String] {
            names = list
            source = "[" + list.joined(separator: ", ") + "]"
        } else if let text = value as? String {
            source = text
            do {
                pattern = try NSRegularExpression(pattern: "^(?:" + text + ")$")
            } catch {
                throw ModelError.invalidAdapter(path: directory, reason: "\(field) \"\(text)\" is not a regular expression Kino can read")
            }
        } else {
            throw ModelError.invalidAdapter(path: directory, reason: "\(field) must be a list of module names or a regular expression")
        }
    }

    func matches(_ module: String) -> Bool {
        if let pattern {
            return pattern.firstMatch(in: module, range: NSRange(module.startIndex..., in: module)) != nil
        }
        return names.contains { module == $0 || module.hasSuffix("." + $0) }
    }

    var description: String { source }
}
