import Foundation

/// Geometry of a 2-D convolution (PyTorch `Conv2d`): stride, zero padding, groups.
public struct ConvolutionGeometry: Sendable, Equatable {
    public var stride: [Int]
    public var padding: [Int]
    public var groups: Int

    public init(stride: [Int] = [1, 1], padding: [Int] = [0, 0], groups: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    /// Output extent `(n + 2p − k)/s + 1` per spatial dimension.
    func output(_ input: [Int], kernel: [Int]) -> [Int] {
        (0..<2).map { (input[$0] + 2 * padding[$0] - kernel[$0]) / stride[$0] + 1 }
    }
}

extension Tensor {
    /// Visits every (column element, input position) pair of one batch item and channel group's
    /// im2col in column order; `position` is nil where the kernel overhangs the padded border.
    @inline(__always)
    static func forEachConvolutionTap(channels: Int, height h: Int, width w: Int, kernel: [Int], _ g: ConvolutionGeometry,
                                      outputSize: [Int], _ body: (_ column: Int, _ position: Int?) -> Void) {
        let (kh, kw) = (kernel[0], kernel[1]), (oh, ow) = (outputSize[0], outputSize[1])
        let (sh, sw, ph, pw) = (g.stride[0], g.stride[1], g.padding[0], g.padding[1])
        var column = 0
        for oy in 0..<oh {
            for ox in 0..<ow {
                for c in 0..<channels {
                    for ky in 0..<kh {
                        let y = oy * sh - ph + ky
                        for kx in 0..<kw {
                            let xx = ox * sw - pw + kx
                            body(column, y >= 0 && y < h && xx >= 0 && xx < w ? (c * h + y) * w + xx : nil)
                            column += 1
                        }
                    }
                }
            }
        }
    }

    /// im2col of one batch item and one channel group of `[B, C, H, W]`: `[Ho·Wo, Cg·kh·kw]`,
    /// zeros where the kernel overhangs the padded border.
    static func convolutionColumns(_ x: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                                   kernel: [Int], _ g: ConvolutionGeometry, outputSize: [Int],
                                   into cols: UnsafeMutablePointer<Float>) {
        forEachConvolutionTap(channels: channels, height: h, width: w, kernel: kernel, g, outputSize: outputSize) { i, p in
            cols[i] = p.map { x[$0] } ?? 0
        }
    }

    /// The adjoint of ``convolutionColumns``: adds columns back into one group's planes.
    static func addColumns(_ cols: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                           kernel: [Int], _ g: ConvolutionGeometry, outputSize: [Int],
                           into x: UnsafeMutablePointer<Float>) {
        forEachConvolutionTap(channels: channels, height: h, width: w, kernel: kernel, g, outputSize: outputSize) { i, p in
            if let p { x[p] += cols[i] }
        }
    }

    /// A 2-D convolution as PyTorch's `F.conv2d(x, weight, bias, stride, padding, groups=g)`:
    /// im2col per batch item and group, one sgemm each. Depthwise is `groups == C`.
    ///
    /// - Parameters:
    ///   - weight: `[O, C/g, kh, kw]`.
    ///   - bias: `[O]` or nil.
    /// - Returns: `[B, O, Ho, Wo]`.
    public func convolution2D(weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d of \(shape) with weight \(weight.shape)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        precondition(g.groups > 0 && c % g.groups == 0 && o % g.groups == 0 && cg == c / g.groups,
                     "conv2d of \(shape) with weight \(weight.shape) in \(g.groups) groups")
        let size = g.output([h, w], kernel: [kh, kw])
        precondition(size.allSatisfy { $0 > 0 }, "conv2d kernel \([kh, kw]) does not fit \([h, w]) padded by \(g.padding)")
        let (og, k, spatial) = (o / g.groups, cg * kh * kw, size[0] * size[1])
        var out = Tensor(uninitialized: [b, o, size[0], size[1]])
        storage.withUnsafeBufferPointer { px in
            weight.storage.withUnsafeBufferPointer { pw in
                out.storage.withUnsafeMutableBufferPointer { po in
                    let px = px.baseAddress!, pw = pw.baseAddress!, po = po.baseAddress!
                    Parallelism.forChunks(b * g.groups) { range in
                        let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, spatial * k))
                        defer { cols.deallocate() }
                        for task in range {
                            let (item, group) = (task / g.groups, task % g.groups)
                            Tensor.convolutionColumns(px + (item * c + group * cg) * h * w, channels: cg, height: h, width: w,
                                                      kernel: [kh, kw], g, outputSize: size, into: cols)
                            let dst = po + (item * o + group * og) * spatial
                            BLAS.gemm(transposeB: true, m: og, n: spatial, k: k, a: pw + group * og * k, lda: k,
                                      b: cols, ldb: k, c: dst, ldc: spatial)
                            if let bias {
                                for j in 0..<og {
                                    let v = bias.storage[group * og + j]
                                    for s in 0..<spatial { dst[j * spatial + s] += v }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Gradients of ``convolution2D(weight:bias:_:)``: the columns are rebuilt from the saved
    /// input (not stored), `dW = Σ dy·cols`, `dcols = dyᵀ·W` scattered back into `dx`.
    /// Batch items are visited in order, so the sums do not depend on the worker count.
    static func convolution2DBackward(input x: Tensor, weight: Tensor, outputGradient dy: Tensor, _ g: ConvolutionGeometry,
                                      needInput: Bool, needWeight: Bool, needBias: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let size = [dy.shape[2], dy.shape[3]]
        let (og, k, spatial) = (o / g.groups, cg * kh * kw, size[0] * size[1])
        var dx = needInput ? Tensor(zeros: x.shape) : nil
        var dw = needWeight ? Tensor(zeros: weight.shape) : nil
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, spatial * k))
        defer { cols.deallocate() }
        x.storage.withUnsafeBufferPointer { px in
        weight.storage.withUnsafeBufferPointer { pw in
        dy.storage.withUnsafeBufferPointer { pdy in
            let px = px.baseAddress!, pw = pw.baseAddress!, pdy = pdy.baseAddress!
            for item in 0..<b {
                for group in 0..<g.groups {
                    let gy = pdy + (item * o + group * og) * spatial
                    if needWeight {
                        Tensor.convolutionColumns(px + (item * c + group * cg) * h * w, channels: cg, height: h, width: w,
                                                  kernel: [kh, kw], g, outputSize: size, into: cols)
                        dw!.storage.withUnsafeMutableBufferPointer { pdw in
                            BLAS.gemm(m: og, n: k, k: spatial, a: gy, lda: spatial, b: cols, ldb: k,
                                      beta: 1, c: pdw.baseAddress! + group * og * k, ldc: k)
                        }
                    }
                    if needInput {
                        BLAS.gemm(transposeA: true, m: spatial, n: k, k: og, a: gy, lda: spatial, b: pw + group * og * k, ldb: k,
                                  c: cols, ldc: k)
                        dx!.storage.withUnsafeMutableBufferPointer { pdx in
                            Tensor.addColumns(cols, channels: cg, height: h, width: w, kernel: [kh, kw], g, outputSize: size,
                                              into: pdx.baseAddress! + (item * c + group * cg) * h * w)
                        }
                    }
                }
            }
        }}}
        var db: Tensor?
        if needBias {
            var sums = Tensor(zeros: [o])
            for item in 0..<b {
                for j in 0..<o {
                    var s: Float = 0
                    for p in 0..<spatial { s += dy.storage[(item * o + j) * spatial + p] }
                    sums.storage[j] += s
                }
            }
            db = sums
        }
        return (dx, dw, db)
    }

    /// Group normalisation as PyTorch's `F.group_norm`: statistics over each group of `C/G`
    /// channels and all positions of `[B, C, …]`, then a per-channel scale and shift.
    /// - Returns: the output and the per-(batch, group) mean and 1/σ.
    static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, eps: Float)
        -> (output: Tensor, statistics: LayerNormStatistics) {
        let (b, c) = (x.shape[0], x.shape[1])
        precondition(x.rank >= 2 && groups > 0 && c % groups == 0 && weight.count == c && bias.count == c,
                     "group norm of \(x.shape) in \(groups) groups with γ \(weight.shape)")
        let spatial = x.count / max(1, b * c), per = c / groups * spatial
        var out = Tensor(uninitialized: x.shape)
        var means = [Float](repeating: 0, count: b * groups), inverse = means
        for t in 0..<(b * groups) {
            let base = t * per
            var sum = 0.0
            for i in 0..<per { sum += Double(x.storage[base + i]) }
            let mean = sum / Double(per)
            var sq = 0.0
            for i in 0..<per { let d = Double(x.storage[base + i]) - mean; sq += d * d }
            let inv = Float(1 / (sq / Double(per) + Double(eps)).squareRoot())
            let m = Float(mean)
            means[t] = m
            inverse[t] = inv
            let firstChannel = (t % groups) * (c / groups)
            for i in 0..<per {
                let ch = firstChannel + i / spatial
                out.storage[base + i] = (x.storage[base + i] - m) * inv * weight.storage[ch] + bias.storage[ch]
            }
        }
        return (out, LayerNormStatistics(mean: means, inverseStd: inverse))
    }

    /// Gradients of ``groupNorm(_:groups:weight:bias:eps:)``: per group as a layer norm over its elements.
    static func groupNormBackward(input x: Tensor, groups: Int, weight: Tensor, statistics: LayerNormStatistics,
                                  outputGradient dy: Tensor) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let (b, c) = (x.shape[0], x.shape[1])
        let spatial = x.count / max(1, b * c), per = c / groups * spatial
        var dx = Tensor(zeros: x.shape), dgamma = Tensor(zeros: [c]), dbeta = Tensor(zeros: [c])
        for t in 0..<(b * groups) {
            let base = t * per, mean = statistics.mean[t], inv = statistics.inverseStd[t]
            let firstChannel = (t % groups) * (c / groups)
            var sumG: Float = 0, sumGX: Float = 0
            for i in 0..<per {
                let ch = firstChannel + i / spatial
                let xhat = (x.storage[base + i] - mean) * inv
                let g = dy.storage[base + i] * weight.storage[ch]
                sumG += g
                sumGX += g * xhat
                dgamma.storage[ch] += dy.storage[base + i] * xhat
                dbeta.storage[ch] += dy.storage[base + i]
            }
            let meanG = sumG / Float(per), meanGX = sumGX / Float(per)
            for i in 0..<per {
                let ch = firstChannel + i / spatial
                let xhat = (x.storage[base + i] - mean) * inv
                dx.storage[base + i] = inv * (dy.storage[base + i] * weight.storage[ch] - meanG - xhat * meanGX)
            }
        }
        return (dx, dgamma, dbeta)
    }

    /// Nearest-neighbour upsampling of the last two dimensions by an integer `factor`
    /// (`F.interpolate(mode="nearest", scale_factor=factor)`).
    public func upsampledNearest(_ factor: Int) -> Tensor {
        precondition(rank >= 2 && factor >= 1, "nearest upsample of \(shape) by \(factor)")
        let (h, w) = (shape[rank - 2], shape[rank - 1])
        let planes = count / max(1, h * w)
        var out = Tensor(uninitialized: Array(shape.dropLast(2)) + [h * factor, w * factor])
        let (oh, ow) = (h * factor, w * factor)
        for p in 0..<planes {
            for y in 0..<oh {
                for x in 0..<ow { out.storage[(p * oh + y) * ow + x] = storage[(p * h + y / factor) * w + x / factor] }
            }
        }
        return out
    }

    /// The adjoint of ``upsampledNearest(_:)``: sums each `factor × factor` block.
    func downsampledSum(_ factor: Int, shape original: [Int]) -> Tensor {
        let (h, w) = (original[original.count - 2], original[original.count - 1])
        let (oh, ow) = (h * factor, w * factor)
        var out = Tensor(zeros: original)
        for p in 0..<(out.count / max(1, h * w)) {
            for y in 0..<oh {
                for x in 0..<ow { out.storage[(p * h + y / factor) * w + x / factor] += storage[(p * oh + y) * ow + x] }
            }
        }
        return out
    }

    /// `F.pixel_shuffle(x, r)`: `[B, C·r², H, W]` → `[B, C, H·r, W·r]`; with `inverse`,
    /// `F.pixel_unshuffle`. A permutation, so its adjoint is the other direction.
    public func pixelShuffled(_ r: Int, inverse: Bool = false) -> Tensor {
        precondition(rank == 4 && r >= 1, "pixel shuffle of \(shape) by \(r)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        if inverse {
            precondition(h % r == 0 && w % r == 0, "pixel unshuffle of \(shape) by \(r)")
            let (oc, oh, ow) = (c * r * r, h / r, w / r)
            var out = Tensor(uninitialized: [b, oc, oh, ow])
            for n in 0..<b {
                for ch in 0..<c {
                    for y in 0..<h {
                        for x in 0..<w {
                            let o = ((n * oc + ch * r * r + (y % r) * r + x % r) * oh + y / r) * ow + x / r
                            out.storage[o] = storage[((n * c + ch) * h + y) * w + x]
                        }
                    }
                }
            }
            return out
        }
        precondition(c % (r * r) == 0, "pixel shuffle of \(shape) by \(r)")
        let (oc, oh, ow) = (c / (r * r), h * r, w * r)
        var out = Tensor(uninitialized: [b, oc, oh, ow])
        for n in 0..<b {
            for ch in 0..<oc {
                for y in 0..<oh {
                    for x in 0..<ow {
                        let i = ((n * c + ch * r * r + (y % r) * r + x % r) * h + y / r) * w + x / r
                        out.storage[((n * oc + ch) * oh + y) * ow + x] = storage[i]
                    }
                }
            }
        }
        return out
    }
}
