// The two spellings of the same modules (specs/adapters-family.md §0): checkpoints and
// transformers ≤ 4.x use `encoder.layer.{i}.attention.attention.query`, transformers ≥ 5 renames
// the modules in memory (`layers.{i}.attention.q_proj`), and PEFT writes whichever names the
// model had when it saved.
import Foundation

/// Which transformers generation's module names a file uses.
public enum AdapterNaming: String, Sendable, Codable, CaseIterable {
    /// transformers ≤ 4.x (and every base checkpoint).
    case legacy
    /// transformers ≥ 5.
    case v5

    private static let legacyToV5: [(String, String)] = [
        ("attention.attention.query", "attention.q_proj"),
        ("attention.attention.key", "attention.k_proj"),
        ("attention.attention.value", "attention.v_proj"),
        // Before the feed-forward rule: both end in `output.dense`.
        ("attention.output.dense", "attention.o_proj"),
        ("intermediate.dense", "mlp.fc1"),
        ("output.dense", "mlp.fc2"),
    ]

    /// `key` (legacy) in this generation's spelling.
    public func spell(_ key: String) -> String {
        guard self == .v5 else { return key }
        var parts = key.components(separatedBy: ".")
        // encoder.layer.{i} → layers.{i}
        var i = 0
        while i + 2 < parts.count {
            if parts[i] == "encoder", parts[i + 1] == "layer", Int(parts[i + 2]) != nil {
                parts.replaceSubrange(i ... i + 1, with: ["layers"])
            }
            i += 1
        }
        var out = parts.joined(separator: ".")
        for (old, new) in Self.legacyToV5 {
            out = Self.replaceModule(old, with: new, in: out)
        }
        return out
    }

    /// A key of either generation in the legacy spelling.
    public static func legacy(_ key: String) -> String {
        var parts = key.components(separatedBy: ".")
        var i = 0
        while i + 1 < parts.count {
            if parts[i] == "layers", Int(parts[i + 1]) != nil, i == 0 || parts[i - 1] != "encoder" {
                parts.replaceSubrange(i ... i, with: ["encoder", "layer"])
                i += 1
            }
            i += 1
        }
        var out = parts.joined(separator: ".")
        for (old, new) in legacyToV5 { out = replaceModule(new, with: old, in: out) }
        return out
    }

    /// Whether a key is spelled the v5 way.
    public static func isV5(_ key: String) -> Bool {
        let parts = key.components(separatedBy: ".")
        for i in parts.indices.dropLast() where parts[i] == "layers" && Int(parts[i + 1]) != nil {
            if i == 0 || parts[i - 1] != "encoder" { return true }
        }
        return false
    }

    /// Replaces the dotted module path `old` where it stands as whole components of `key`.
    static func replaceModule(_ old: String, with new: String, in key: String) -> String {
        let k = key.components(separatedBy: "."), o = old.components(separatedBy: ".")
        guard k.count >= o.count else { return key }
        var out: [String] = []
        var i = 0
        while i < k.count {
            if i + o.count <= k.count, Array(k[i ..< i + o.count]) == o,
               // `output.dense` must not be the tail of `attention.output.dense`.
               !(old == "output.dense" && i > 0 && k[i - 1] == "attention") {
                out.append(contentsOf: new.components(separatedBy: "."))
                i += o.count
            } else {
                out.append(k[i])
                i += 1
            }
        }
        return out.joined(separator: ".")
    }
}
