import Foundation

/// Geometry of a 2-D or 3-D convolution (PyTorch `Conv2d`/`Conv3d`): stride and zero padding per
/// spatial dimension, groups.
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
        input.indices.map { (input[$0] + 2 * padding[$0] - kernel[$0]) / stride[$0] + 1 }
    }

    /// The same geometry over three spatial dimensions (a leading depth of stride 1, no padding).
    var volumetric: (stride: [Int], padding: [Int]) {
        stride.count == 3 ? (stride, padding) : ([1] + stride, [0] + padding)
    }
}

/// Extents of one convolution: spatial sizes always as depth, height, width (depth 1 for 2-D).
struct ConvolutionShape {
    var batch: Int, channels: Int, spatial: [Int]
    var outputChannels: Int, groupChannels: Int, kernel: [Int]
    var stride: [Int], padding: [Int], groups: Int
    var output: [Int]

    init(input: [Int], weight: [Int], _ g: ConvolutionGeometry) {
        let volumetric = input.count == 5
        precondition((input.count == 4 || volumetric) && weight.count == input.count
                     && g.stride.count == input.count - 2 && g.padding.count == input.count - 2,
                     "convolution of \(input) with weight \(weight), stride \(g.stride), padding \(g.padding)")
        batch = input[0]
        channels = input[1]
        spatial = volumetric ? Array(input[2...]) : [1] + input[2...]
        outputChannels = weight[0]
        groupChannels = weight[1]
        kernel = volumetric ? Array(weight[2...]) : [1] + weight[2...]
        (stride, padding) = g.volumetric
        groups = g.groups
        precondition(groups > 0 && channels % groups == 0 && outputChannels % groups == 0 && groupChannels == channels / groups,
                     "convolution of \(input) with weight \(weight) in \(groups) groups")
        let (sp, k, st, pd) = (spatial, kernel, stride, padding)
        var extents: [Int] = []
        for i in 0..<3 {
            let span: Int = sp[i] + 2 * pd[i] - k[i]
            extents.append(span / st[i] + 1)
        }
        precondition(extents.allSatisfy { $0 > 0 }, "kernel \(weight.dropFirst(2)) does not fit \(input.dropFirst(2)) padded by \(g.padding)")
        output = extents
    }

    var volume: Int { spatial.reduce(1, *) }
    var outputVolume: Int { output.reduce(1, *) }
    /// Elements of one im2col row: `C/g · kd·kh·kw`.
    var row: Int { groupChannels * kernel.reduce(1, *) }
    var groupOutputs: Int { outputChannels / groups }

    /// Visits every (column element, input position) pair of one batch item and channel group's
    /// im2col in column order; `position` is nil where the kernel overhangs the padded border.
    @inline(__always)
    func forEachTap(_ body: (_ column: Int, _ position: Int?) -> Void) {
        let (d, h, w) = (spatial[0], spatial[1], spatial[2])
        let (kd, kh, kw) = (kernel[0], kernel[1], kernel[2])
        var column = 0
        for oz in 0..<output[0] {
            for oy in 0..<output[1] {
                for ox in 0..<output[2] {
                    for c in 0..<groupChannels {
                        for kz in 0..<kd {
                            let z = oz * stride[0] - padding[0] + kz
                            for ky in 0..<kh {
                                let y = oy * stride[1] - padding[1] + ky
                                for kx in 0..<kw {
                                    let x = ox * stride[2] - padding[2] + kx
                                    let inside = z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w
                                    body(column, inside ? ((c * d + z) * h + y) * w + x : nil)
                                    column += 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// im2col of one batch item and channel group: `[output volume, row]`, zeros in the padding.
    func columns(_ x: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>) {
        forEachTap { i, p in cols[i] = p.map { x[$0] } ?? 0 }
    }

    /// The adjoint of ``columns(_:into:)``: adds columns back into one group's planes.
    func addColumns(_ cols: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        forEachTap { i, p in if let p { x[p] += cols[i] } }
    }
}

extension Tensor {
    /// A 2-D or 3-D convolution as PyTorch's `F.conv2d`/`F.conv3d(x, weight, bias, stride,
    /// padding, groups=g)`: im2col per batch item and group, one sgemm each. Depthwise is
    /// `groups == C`.
    ///
    /// - Parameters:
    ///   - weight: `[O, C/g, kh, kw]` or `[O, C/g, kd, kh, kw]`.
    ///   - bias: `[O]` or nil.
    /// - Returns: `[B, O, Ho, Wo]` or `[B, O, Do, Ho, Wo]`.
    public func convolution(weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry) -> Tensor {
        let s = ConvolutionShape(input: shape, weight: weight.shape, g)
        let (og, k, spatial) = (s.groupOutputs, s.row, s.outputVolume)
        let outShape = [s.batch, s.outputChannels] + (rank == 5 ? s.output : Array(s.output.dropFirst()))
        var out = Tensor(uninitialized: outShape)
        storage.withUnsafeBufferPointer { px in
            weight.storage.withUnsafeBufferPointer { pw in
                out.storage.withUnsafeMutableBufferPointer { po in
                    let px = px.baseAddress!, pw = pw.baseAddress!, po = po.baseAddress!
                    Parallelism.forChunks(s.batch * s.groups) { range in
                        let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, spatial * k))
                        defer { cols.deallocate() }
                        for task in range {
                            let (item, group) = (task / s.groups, task % s.groups)
                            s.columns(px + (item * s.channels + group * s.groupChannels) * s.volume, into: cols)
                            let dst = po + (item * s.outputChannels + group * og) * spatial
                            BLAS.gemm(transposeB: true, m: og, n: spatial, k: k, a: pw + group * og * k, lda: k,
                                      b: cols, ldb: k, c: dst, ldc: spatial)
                            if let bias {
                                for j in 0..<og {
                                    let v = bias.storage[group * og + j]
                                    for p in 0..<spatial { dst[j * spatial + p] += v }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// ``convolution(weight:bias:_:)`` on `[B, C, H, W]`.
    public func convolution2D(weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry) -> Tensor {
        precondition(rank == 4, "conv2d of \(shape)")
        return convolution(weight: weight, bias: bias, g)
    }

    /// Gradients of ``convolution(weight:bias:_:)``: the columns are rebuilt from the saved input
    /// (not stored), `dW = Σ dy·cols`, `dcols = dyᵀ·W` scattered back into `dx`. Batch items are
    /// visited in order, so the sums do not depend on the worker count.
    static func convolutionBackward(input x: Tensor, weight: Tensor, outputGradient dy: Tensor, _ g: ConvolutionGeometry,
                                    needInput: Bool, needWeight: Bool, needBias: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let s = ConvolutionShape(input: x.shape, weight: weight.shape, g)
        let (o, og, k, spatial) = (s.outputChannels, s.groupOutputs, s.row, s.outputVolume)
        var dx = needInput ? Tensor(zeros: x.shape) : nil
        var dw = needWeight ? Tensor(zeros: weight.shape) : nil
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, spatial * k))
        defer { cols.deallocate() }
        x.storage.withUnsafeBufferPointer { px in
        weight.storage.withUnsafeBufferPointer { pw in
        dy.storage.withUnsafeBufferPointer { pdy in
            let px = px.baseAddress!, pw = pw.baseAddress!, pdy = pdy.baseAddress!
            for item in 0..<s.batch {
                for group in 0..<s.groups {
                    let gy = pdy + (item * o + group * og) * spatial
                    let plane = (item * s.channels + group * s.groupChannels) * s.volume
                    if needWeight {
                        s.columns(px + plane, into: cols)
                        dw!.storage.withUnsafeMutableBufferPointer { pdw in
                            BLAS.gemm(m: og, n: k, k: spatial, a: gy, lda: spatial, b: cols, ldb: k,
                                      beta: 1, c: pdw.baseAddress! + group * og * k, ldc: k)
                        }
                    }
                    if needInput {
                        BLAS.gemm(transposeA: true, m: spatial, n: k, k: og, a: gy, lda: spatial, b: pw + group * og * k, ldb: k,
                                  c: cols, ldc: k)
                        dx!.storage.withUnsafeMutableBufferPointer { pdx in s.addColumns(cols, into: pdx.baseAddress! + plane) }
                    }
                }
            }
        }}}
        var db: Tensor?
        if needBias {
            var sums = Tensor(zeros: [o])
            for item in 0..<s.batch {
                for j in 0..<o {
                    var total: Float = 0
                    for p in 0..<spatial { total += dy.storage[(item * o + j) * spatial + p] }
                    sums.storage[j] += total
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
