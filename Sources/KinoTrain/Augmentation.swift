// Per-sample training augmentation on model inputs, drawn from the trainer's per-sample stream.
import Foundation
import KinoTensor

public enum Augmentation {
    /// SpecAugment on one fbank window `[frames, bins]`: one frequency mask of up to 24 bins (at
    /// most a quarter of them) and one time mask of up to 80 frames (at most a fifth), set to 0 as
    /// PETL_AST does on normalised features.
    public static func specAugment(_ x: Tensor, random: inout SplitMix64Source) -> Tensor {
        var t = x
        let (frames, bins) = (t.shape[0], t.shape[1])
        // Modulo draws (not nextInt(below:)): the seed study's runs were made with these.
        let fw = Int(random.nextUInt64() % UInt64(min(24, bins / 4) + 1))
        let f0 = Int(random.nextUInt64() % UInt64(max(1, bins - fw + 1)))
        let tw = Int(random.nextUInt64() % UInt64(min(80, frames / 5) + 1))
        let t0 = Int(random.nextUInt64() % UInt64(max(1, frames - tw + 1)))
        for r in 0..<frames {
            for c in 0..<bins where (c >= f0 && c < f0 + fw) || (r >= t0 && r < t0 + tw) { t.storage[r * bins + c] = 0 }
        }
        return t
    }

    /// Random crop and flip on preprocessed pixels `[…, H, W]` (an image `[C, H, W]` or a clip
    /// `[T, C, H, W]`): a window of `scale` (80–100% by default) of each side at a random place,
    /// resized back to H × W bilinearly (pixel centres, as `align_corners = false`), the same
    /// window in every frame and channel so motion is kept; then a horizontal flip half the time
    /// (`flips: false` for labels that name a direction, such as a camera panning left).
    public static func cropAndFlip(_ x: Tensor, random: inout SplitMix64Source, scale range: ClosedRange<Double> = 0.8...1,
                                   flips: Bool = true) -> Tensor {
        let (h, w) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        let scale = range.lowerBound + (range.upperBound - range.lowerBound) * random.nextUniform()
        let (ch, cw) = (Double(h) * scale, Double(w) * scale)
        let top = (Double(h) - ch) * random.nextUniform(), left = (Double(w) - cw) * random.nextUniform()
        let flip = random.nextUInt64() & 1 == 1 && flips
        // Source rows and columns with their weights, shared by every plane.
        func taps(_ n: Int, _ start: Double, _ extent: Double) -> [(Int, Int, Float)] {
            (0..<n).map { i in
                let s = min(max(start + (Double(i) + 0.5) * extent / Double(n) - 0.5, 0), Double(n - 1))
                let i0 = Int(s)
                return (i0, min(i0 + 1, n - 1), Float(s - Double(i0)))
            }
        }
        let rows = taps(h, top, ch), columns = taps(w, left, cw)
        var out = x
        let plane = h * w
        x.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for p in 0 ..< x.count / plane {
                    let base = p * plane
                    for (r, (y0, y1, fy)) in rows.enumerated() {
                        for (c, (x0, x1, fx)) in columns.enumerated() {
                            let top = src[base + y0 * w + x0] * (1 - fx) + src[base + y0 * w + x1] * fx
                            let bottom = src[base + y1 * w + x0] * (1 - fx) + src[base + y1 * w + x1] * fx
                            dst[base + r * w + (flip ? w - 1 - c : c)] = top * (1 - fy) + bottom * fy
                        }
                    }
                }
            }
        }
        return out
    }

    /// Mirrors, flips or reverses a clip `[T, C, H, W]` (or an image `[C, H, W]`, not in time)
    /// half the time for each symmetry, carrying the label along: for camera motion a mirror
    /// turns `pan-left` into `pan-right`, an upside-down flip `tilt-up` into `tilt-down`, and
    /// playing backwards swaps all three pairs with `zoom-in`/`zoom-out`. Draws one bit per
    /// symmetry after whatever the caller drew before.
    public static func symmetries(_ x: Tensor, label: Int, _ list: [LabelSymmetry], random: inout SplitMix64Source) -> (Tensor, Int) {
        var (t, l) = (x, label)
        for symmetry in list where random.nextUInt64() & 1 == 1 {
            t = symmetry.transform.apply(t)
            l = symmetry.permutation[l]
        }
        return (t, l)
    }
}

/// A change of a training input together with the label it turns each label into.
public struct LabelSymmetry: Sendable, Equatable {
    public enum Transform: String, Sendable, CaseIterable {
        /// Left–right.
        case mirror
        /// Upside down.
        case flip
        /// Frames in reverse order.
        case reverse

        /// The transformed input: the last axis reversed for `mirror`, the one before for
        /// `flip`, the first of a 4-D clip for `reverse`.
        public func apply(_ x: Tensor) -> Tensor {
            let shape = x.shape
            let axis: Int
            switch self {
            case .mirror: axis = x.rank - 1
            case .flip: axis = x.rank - 2
            case .reverse: axis = 0
            }
            let n = shape[axis]
            let inner = shape[(axis + 1)...].reduce(1, *)
            let outer = shape[..<axis].reduce(1, *)
            var out = x
            x.storage.withUnsafeBufferPointer { src in
                out.storage.withUnsafeMutableBufferPointer { dst in
                    for o in 0 ..< outer {
                        for i in 0 ..< n {
                            let from = (o * n + i) * inner, to = (o * n + n - 1 - i) * inner
                            for k in 0 ..< inner { dst[to + k] = src[from + k] }
                        }
                    }
                }
            }
            return out
        }
    }

    public var transform: Transform
    /// Label `i` becomes `permutation[i]`.
    public var permutation: [Int]

    public init(transform: Transform, permutation: [Int]) {
        self.transform = transform
        self.permutation = permutation
    }

    /// Parses `pan-left=pan-right,tilt-up=tilt-down` (pairs that swap; every other label stays)
    /// against the run's labels. An empty text means the transform keeps every label.
    /// - Throws: ``TrainError/invalidConfiguration(_:)`` naming an unknown or repeated label.
    public init(transform: Transform, swaps text: String, labels: [String]) throws {
        var permutation = Array(labels.indices)
        var seen = Set<String>()
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let names = pair.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard names.count == 2, !names[0].isEmpty, !names[1].isEmpty, names[0] != names[1] else {
                throw TrainError.invalidConfiguration("\(transform.rawValue) swap '\(pair)' is not of the form A=B")
            }
            for name in names {
                guard labels.contains(name) else {
                    throw TrainError.invalidConfiguration("\(transform.rawValue) swap names '\(name)', which is not a label of this data (\(labels.joined(separator: ", ")))")
                }
                guard seen.insert(name).inserted else {
                    throw TrainError.invalidConfiguration("\(transform.rawValue) swap names '\(name)' twice")
                }
            }
            let (a, b) = (labels.firstIndex(of: names[0])!, labels.firstIndex(of: names[1])!)
            permutation[a] = b
            permutation[b] = a
        }
        self.init(transform: transform, permutation: permutation)
    }
}
