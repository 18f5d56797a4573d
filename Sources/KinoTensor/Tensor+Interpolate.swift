// Bicubic resampling as PyTorch's `interpolate(mode="bicubic", align_corners=False)` (CPU kernel
// `upsample_bicubic2d`): Keys cubic convolution with A = −0.75, no antialiasing.
import Foundation

extension Tensor {
    /// Resizes the last two dimensions (`[…, H, W]` → `[…, height, width]`) bicubically.
    ///
    /// Matches PyTorch when the output size is given (not a scale factor): the source
    /// coordinate of output `i` is `(i + 0.5)·in/out − 0.5` (not clamped), taps at
    /// `floor − 1 … floor + 2` are clamped to the border, and the four rows are combined after
    /// interpolating along x. Used for Hugging Face's `interpolate_pos_encoding`.
    public func resizedBicubic(height: Int, width: Int) -> Tensor {
        precondition(rank >= 2 && height > 0 && width > 0, "bicubic resize of \(shape) to \(height)×\(width)")
        let inH = shape[rank - 2], inW = shape[rank - 1]
        let planes = count / max(1, inH * inW)
        let rows = Tensor.cubicTaps(input: inH, output: height)
        let cols = Tensor.cubicTaps(input: inW, output: width)
        var out = Tensor(zeros: Array(shape.dropLast(2)) + [height, width])
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    let plane = src.baseAddress! + p * inH * inW
                    for y in 0..<height {
                        let ry = rows[y]
                        for x in 0..<width {
                            let cx = cols[x]
                            var acc: Float = 0
                            for i in 0..<4 {
                                let line = plane + ry.index[i] * inW
                                var v: Float = 0
                                for j in 0..<4 { v += line[cx.index[j]] * cx.weight[j] }
                                acc += v * ry.weight[i]
                            }
                            dst[(p * height + y) * width + x] = acc
                        }
                    }
                }
            }
        }
        return out
    }

    /// Source indices (border-clamped) and cubic weights for each output position.
    static func cubicTaps(input: Int, output: Int) -> [(index: [Int], weight: [Float])] {
        let scale = Float(input) / Float(output)
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return (0..<output).map { o in
            let real = scale * (Float(o) + 0.5) - 0.5
            let base = Int(real.rounded(.down))
            let t = real - Float(base)
            let weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            let indices = (-1...2).map { min(max(base + $0, 0), input - 1) }
            return (indices, weights)
        }
    }
}
