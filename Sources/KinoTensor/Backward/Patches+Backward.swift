import Foundation

extension Tensor {
    /// The adjoint of ``patches2D(_:)`` (col2im): scatter-adds `[B, nH·nW, C·kh·kw]` columns
    /// back into a `[B, C, H, W]` image; overlapping patches (AST's strides) add up.
    /// Parallel over batch items only, so the additions keep one order.
    static func image2D(fromColumns cols: Tensor, _ geometry: PatchGeometry, imageShape: [Int]) -> Tensor {
        let (b, c, h, w) = (imageShape[0], imageShape[1], imageShape[2], imageShape[3])
        let (kh, kw) = (geometry.kernel[0], geometry.kernel[1])
        let (sh, sw) = (geometry.stride[0], geometry.stride[1])
        let grid = geometry.grid([h, w])
        let (nh, nw) = (grid[0], grid[1])
        let row = c * kh * kw
        var out = Tensor(zeros: imageShape)
        cols.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                Parallelism.forEach(b) { batch in
                    for gy in 0..<nh {
                        for gx in 0..<nw {
                            var o = src + ((batch * nh + gy) * nw + gx) * row
                            for ch in 0..<c {
                                let plane = dst + (batch * c + ch) * h * w
                                for ky in 0..<kh {
                                    let target = plane + (gy * sh + ky) * w + gx * sw
                                    for kx in 0..<kw { target[kx] += o[kx] }
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

    /// The adjoint of ``patches3D(_:)``: tubelet columns back into `[B, T, C, H, W]`.
    static func image3D(fromColumns cols: Tensor, _ geometry: PatchGeometry, imageShape: [Int]) -> Tensor {
        let (b, t, c, h, w) = (imageShape[0], imageShape[1], imageShape[2], imageShape[3], imageShape[4])
        let (kt, kh, kw) = (geometry.kernel[0], geometry.kernel[1], geometry.kernel[2])
        let (st, sh, sw) = (geometry.stride[0], geometry.stride[1], geometry.stride[2])
        let grid = geometry.grid([t, h, w])
        let (nt, nh, nw) = (grid[0], grid[1], grid[2])
        let row = c * kt * kh * kw
        var out = Tensor(zeros: imageShape)
        cols.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                Parallelism.forEach(b) { batch in
                    for gt in 0..<nt {
                        for gy in 0..<nh {
                            for gx in 0..<nw {
                                var o = src + (((batch * nt + gt) * nh + gy) * nw + gx) * row
                                for ch in 0..<c {
                                    for dt in 0..<kt {
                                        let plane = dst + ((batch * t + gt * st + dt) * c + ch) * h * w
                                        for ky in 0..<kh {
                                            let target = plane + (gy * sh + ky) * w + gx * sw
                                            for kx in 0..<kw { target[kx] += o[kx] }
                                            o += kw
                                        }
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
}
