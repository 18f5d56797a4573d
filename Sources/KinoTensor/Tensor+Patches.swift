import Foundation

/// Kernel and stride of a patch embedding (a convolution without padding).
public struct PatchGeometry: Sendable, Equatable {
    /// Kernel extent: `[kh, kw]` for 2-D, `[kt, kh, kw]` for 3-D.
    public var kernel: [Int]
    /// Step between patches per dimension; equal to `kernel` for ViT and ViViT, smaller for AST.
    public var stride: [Int]

    public init(kernel: [Int], stride: [Int]? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    /// Patches along each dimension for an input of extent `size` (VALID padding).
    public func grid(_ size: [Int]) -> [Int] {
        zip(zip(size, kernel), stride).map { pair, s in pair.0 < pair.1 ? 0 : (pair.0 - pair.1) / s + 1 }
    }
}

extension Tensor {
    /// Cuts `[B, C, H, W]` into flattened patches (im2col) for a 2-D convolution.
    ///
    /// Patch rows are in row-major grid order (`gy` outer, `gx` inner); each row holds the
    /// patch in `(c, ky, kx)` order, matching `Conv2d.weight.reshape(D, -1)`.
    /// - Returns: `[B, nH·nW, C·kh·kw]`; kept as a value so a backward pass can form `dW = dYᵀ·cols`.
    public func patches2D(_ geometry: PatchGeometry) -> Tensor {
        precondition(rank == 4 && geometry.kernel.count == 2, "2-D patches of \(shape) with \(geometry.kernel)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (kh, kw) = (geometry.kernel[0], geometry.kernel[1])
        let (sh, sw) = (geometry.stride[0], geometry.stride[1])
        let grid = geometry.grid([h, w])
        let (nh, nw) = (grid[0], grid[1])
        let row = c * kh * kw
        var out = Tensor(zeros: [b, nh * nw, row])
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                Parallelism.forChunks(b * nh, minimumChunk: 4) { range in
                    for task in range {
                        let batch = task / nh, gy = task % nh
                        for gx in 0..<nw {
                            var o = dst + ((batch * nh + gy) * nw + gx) * row
                            for ch in 0..<c {
                                let plane = src + (batch * c + ch) * h * w
                                for ky in 0..<kh {
                                    (o).update(from: plane + (gy * sh + ky) * w + gx * sw, count: kw)
                                    o += kw
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Cuts `[B, T, C, H, W]` (frames, then channel planes, as ViViT's `pixel_values`) into
    /// flattened tubelets for a 3-D convolution.
    ///
    /// Token order is `t·nH·nW + y·nW + x`; each row holds the tubelet in `(c, kt, ky, kx)`
    /// order, matching `Conv3d.weight.reshape(D, -1)`.
    /// - Returns: `[B, nT·nH·nW, C·kt·kh·kw]`.
    public func patches3D(_ geometry: PatchGeometry) -> Tensor {
        precondition(rank == 5 && geometry.kernel.count == 3, "3-D patches of \(shape) with \(geometry.kernel)")
        let (b, t, c, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        let (kt, kh, kw) = (geometry.kernel[0], geometry.kernel[1], geometry.kernel[2])
        let (st, sh, sw) = (geometry.stride[0], geometry.stride[1], geometry.stride[2])
        let grid = geometry.grid([t, h, w])
        let (nt, nh, nw) = (grid[0], grid[1], grid[2])
        let row = c * kt * kh * kw
        var out = Tensor(zeros: [b, nt * nh * nw, row])
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                Parallelism.forChunks(b * nt * nh, minimumChunk: 4) { range in
                    for task in range {
                        let batch = task / (nt * nh), gt = (task / nh) % nt, gy = task % nh
                        for gx in 0..<nw {
                            var o = dst + (((batch * nt + gt) * nh + gy) * nw + gx) * row
                            for ch in 0..<c {
                                for dt in 0..<kt {
                                    let plane = src + ((batch * t + gt * st + dt) * c + ch) * h * w
                                    for ky in 0..<kh {
                                        o.update(from: plane + (gy * sh + ky) * w + gx * sw, count: kw)
                                        o += kw
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// A patch embedding: 2-D (`[B, C, H, W]`) or 3-D (`[B, T, C, H, W]`) convolution with
    /// VALID padding computed as im2col followed by one matrix product.
    ///
    /// - Parameters:
    ///   - weight: `[D, C, kh, kw]` or `[D, C, kt, kh, kw]` (PyTorch `Conv2d`/`Conv3d` layout).
    ///   - bias: `[D]`.
    ///   - stride: defaults to the kernel (non-overlapping patches).
    /// - Returns: `[B, tokens, D]`.
    public func patchEmbedding(weight: Tensor, bias: Tensor?, stride: [Int]? = nil) -> Tensor {
        let geometry = PatchGeometry(kernel: Array(weight.shape.dropFirst(2)), stride: stride)
        precondition(weight.shape[1] == (rank == 4 ? shape[1] : shape[2]),
                     "patch weight \(weight.shape) for input \(shape)")
        let columns = rank == 4 ? patches2D(geometry) : patches3D(geometry)
        let d = weight.shape[0]
        return columns.linear(weight: weight.reshaped([d, weight.count / d]), bias: bias)
    }
}
