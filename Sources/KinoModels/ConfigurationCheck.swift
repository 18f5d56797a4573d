import Foundation
import KinoTensor

/// Size checks of `config.json` fields, made before any of them sizes an allocation or a loop.
///
/// Every size a model derives from its configuration (patch grids, token counts, layer and label
/// counts) goes through these: arithmetic is overflow-checked, counts are compared with what the
/// checkpoint actually holds, and each failure is an
/// ``ModelError/invalidConfiguration(path:reason:)`` whose reason starts with the field at fault.
/// The path is the bare `config.json`; ``ModelRegistry/load(directory:)`` puts the folder in front.
enum ConfigurationCheck {
    static func invalid(_ reason: String) -> ModelError {
        .invalidConfiguration(path: "config.json", reason: reason)
    }

    /// Throws unless `value` (the field `field`) is at least `minimum`.
    static func atLeast(_ minimum: Int, _ value: Int, _ field: String) throws {
        guard value >= minimum else { throw invalid("\(field) is \(value), must be at least \(minimum)") }
    }

    /// `1`, `2`, … prefix tokens plus the product of the patch `grid`, or an error naming `fields`.
    static func tokens(prefix: Int, grid: [Int], fields: String) throws -> Int {
        var count = 1
        for extent in grid {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw invalid("\(fields) give a \(grid.map(String.init).joined(separator: "×")) patch grid, too many tokens to count") }
            count = product
        }
        let (total, overflow) = count.addingReportingOverflow(prefix)
        guard !overflow else { throw invalid("\(fields) give too many tokens to count") }
        return total
    }
}

extension CommonConfiguration {
    /// Label tables larger than this are refused when the checkpoint has no head to compare with.
    public static let maximumLabelCount = 1 << 20

    /// The label indices of `id2label`, or the first key that is not one (a non-negative decimal
    /// integer written without sign or leading zeros, below ``maximumLabelCount``).
    func labelIndices() -> (indices: [Int], badKey: String?) {
        var indices: [Int] = []
        for key in (idToLabel ?? [:]).keys.sorted() {
            guard let index = Int(key), index >= 0, index < Self.maximumLabelCount, String(index) == key else {
                return (indices, key)
            }
            indices.append(index)
        }
        return (indices, nil)
    }

    /// The number of labels `id2label` describes (its largest index + 1; 0 without `id2label`),
    /// checked before any label table is built: every key must be an index, and the count must
    /// equal the rows of the head weight `head` when the checkpoint stores it.
    /// - Throws: ``ModelError/invalidConfiguration(path:reason:)`` naming `id2label`.
    func labelCount(head: String, in source: any WeightSource) throws -> Int {
        let (indices, badKey) = labelIndices()
        if let badKey {
            throw ConfigurationCheck.invalid(
                "id2label key \"\(badKey)\" is not a label index (an integer from 0 to \(Self.maximumLabelCount - 1))")
        }
        let count = (indices.max() ?? -1) + 1
        if count > 0, case .stored(let shape) = source.availability(of: head, prefixed: false),
           shape.first != count {
            let rows = shape.first.map(String.init) ?? "no"
            throw ConfigurationCheck.invalid(
                "id2label describes \(count) labels (largest index \(count - 1)) but \(head) has \(rows) rows")
        }
        return count
    }
}
