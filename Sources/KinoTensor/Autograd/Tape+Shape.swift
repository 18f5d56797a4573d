extension Tape {
    public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
        let original = values[x.id].shape
        return record(values[x.id].reshaped(shape), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, dy.reshaped(original))
        }
    }

    public func transposeLastTwo(_ x: Variable) -> Variable {
        record(values[x.id].transposedLastTwo(), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, dy.transposedLastTwo())
        }
    }

    public func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        let tensors = parts.map { values[$0.id] }
        let extents = tensors.map { $0.shape[axis] }
        return record(Tensor.concatenate(tensors, axis: axis), needsGradient: parts.contains { needs($0) }) { dy, tape in
            var start = 0
            for (part, extent) in zip(parts, extents) {
                if tape.needs(part) { tape.accumulate(part, dy.slice(axis: axis, start ..< start + extent)) }
                start += extent
            }
        }
    }

    public func slice(_ x: Variable, axis: Int, _ range: Range<Int>) -> Variable {
        let shape = values[x.id].shape
        return record(values[x.id].slice(axis: axis, range), needsGradient: needs(x)) { dy, tape in
            tape.accumulate(x, Tensor.padded(dy, axis: axis, range, shape: shape))
        }
    }

    public func token(_ index: Int, of x: Variable) -> Variable {
        let shape = values[x.id].shape
        return record(values[x.id].token(index), needsGradient: needs(x)) { dy, tape in
            var dx = Tensor(zeros: shape)
            let (b, n, d) = (shape[0], shape[1], shape[2])
            for batch in 0..<b {
                let to = (batch * n + index) * d
                dx.storage.replaceSubrange(to ..< to + d, with: dy.storage[batch * d ..< (batch + 1) * d])
            }
            tape.accumulate(x, dx)
        }
    }

    public func mean(_ x: Variable, axis: Int) -> Variable {
        let shape = values[x.id].shape
        return record(values[x.id].mean(axis: axis), needsGradient: needs(x)) { dy, tape in
            let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
            var dx = Tensor(zeros: shape)
            let s = 1 / Float(max(1, n))
            for o in 0..<outer {
                for i in 0..<n {
                    for j in 0..<inner { dx.storage[(o * n + i) * inner + j] = dy.storage[o * inner + j] * s }
                }
            }
            tape.accumulate(x, dx)
        }
    }

    /// im2col then one product, as ``Tensor/patchEmbedding(weight:bias:stride:)``; the columns are
    /// kept (kernel = stride for ViT/ViViT, so they are the input's size), and col2im gives `dx`.
    public func patchEmbedding(_ x: Variable, weight: Variable, bias: Variable?, stride: [Int]?) -> Variable {
        let input = values[x.id], w = values[weight.id]
        let geometry = PatchGeometry(kernel: Array(w.shape.dropFirst(2)), stride: stride)
        precondition(w.shape[1] == (input.rank == 4 ? input.shape[1] : input.shape[2]),
                     "patch weight \(w.shape) for input \(input.shape)")
        let columns = input.rank == 4 ? input.patches2D(geometry) : input.patches3D(geometry)
        let d = w.shape[0]
        let flat = w.reshaped([d, w.count / d])
        let y = columns.linear(weight: flat, bias: bias.map { values[$0.id] })
        return record(y, needsGradient: needs(x) || needs(weight) || needs(bias)) { dy, tape in
            if tape.needs(weight) {
                tape.accumulate(weight, Tensor.weightGradient(outputGradient: dy, input: columns).reshaped(w.shape))
            }
            if let bias, tape.needs(bias) { tape.accumulate(bias, dy.sumRows()) }
            if tape.needs(x) {
                let dcols = dy.matmul(flat)
                tape.accumulate(x, input.rank == 4
                    ? Tensor.image2D(fromColumns: dcols, geometry, imageShape: input.shape)
                    : Tensor.image3D(fromColumns: dcols, geometry, imageShape: input.shape))
            }
        }
    }
}
