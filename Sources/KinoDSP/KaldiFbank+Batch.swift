// The frame loop's scratch memory and its four-frames-per-SIMD-lane path.

/// The input, window and output of one `compute` call, shared by the threads that fill
/// disjoint rows of the output (hence `@unchecked Sendable`: nothing here is written twice).
struct FrameLoop: @unchecked Sendable {
    let samples: UnsafeBufferPointer<Float>
    let window: UnsafePointer<Float>
    let out: FloatPointer
}

/// Scratch buffers for one thread of a `compute` call, carved from a single allocation.
struct Scratch {
    let base: FloatPointer
    /// One frame (copied only when mirrored or dithered).
    let frame: FloatPointer
    /// Single-frame path: packed FFT input, FFT work space, bins, spectrum.
    let zr, zi, wr, wi, outR, outI, spectrum: FloatPointer
    /// Four-frame path: per-lane packed frames (lane-major), then lane-interleaved buffers.
    let laneR, laneI, vzr, vzi, vwr, vwi, vOutR, vOutI, vSpectrum, vMel: FloatPointer
    /// Energies of the four frames in flight.
    let energies: FloatPointer

    init(windowSize: Int, half: Int, melBins: Int) {
        let sizes = [windowSize, half, half, half, half, half + 1, half + 1, half + 1,
                     4 * half, 4 * half, 4 * half, 4 * half, 4 * half, 4 * half,
                     4 * (half + 1), 4 * (half + 1), 4 * (half + 1), 4 * melBins, 4]
        base = FloatPointer.allocate(capacity: sizes.reduce(0, +))
        var pointers: [FloatPointer] = []
        var offset = 0
        for size in sizes {
            pointers.append(base + offset)
            offset += size
        }
        frame = pointers[0]
        (zr, zi, wr, wi) = (pointers[1], pointers[2], pointers[3], pointers[4])
        (outR, outI, spectrum) = (pointers[5], pointers[6], pointers[7])
        (laneR, laneI, vzr, vzi, vwr, vwi) = (pointers[8], pointers[9], pointers[10], pointers[11], pointers[12], pointers[13])
        (vOutR, vOutI, vSpectrum, vMel) = (pointers[14], pointers[15], pointers[16], pointers[17])
        energies = pointers[18]
    }

    func deallocate() { base.deallocate() }
}

extension KaldiFbank {
    /// Frames `t…t+3`, one per SIMD lane through FFT, spectrum, filterbank and log; written to their rows.
    ///
    /// Framing runs per frame (as in ``computeOne``); the packed frames are then interleaved with
    /// 4×4 transposes, and the log-mel rows are transposed back at the end.
    func computeFour(_ t: Int, _ x: UnsafeBufferPointer<Float>, _ window: UnsafePointer<Float>,
                     _ out: FloatPointer, _ s: Scratch) {
        let half = paddedWindowSize / 2
        for lane in 0..<4 {
            let zr = s.laneR + lane * half, zi = s.laneI + lane * half
            let (source, mean) = frameSource(t + lane, from: x, scratch: s.frame)
            if options.useEnergy && options.rawEnergy { s.energies[lane] = sumOfSquares(source, windowSize, minus: mean) }
            preemphasizeAndPack(source, mean: mean, window: window, zr, zi)
            if options.useEnergy && !options.rawEnergy {
                s.energies[lane] = sumOfSquares(zr, half) + sumOfSquares(zi, half)
            }
        }
        interleave(s.laneR, into: s.vzr, count: half)
        interleave(s.laneI, into: s.vzi, count: half)
        fft.transformPackedFour(s.vzr, s.vzi, s.vwr, s.vwi, s.vOutR, s.vOutI)
        powerSpectrum(s.vOutR, s.vOutI, into: s.vSpectrum, count: 4 * (half + 1), magnitude: !options.usePower)
        filterbank.applyFour(s.vSpectrum, into: s.vMel)
        let melBins = options.numMelBins
        if options.useLogFbank { logFloor(s.vMel, count: 4 * melBins, floor: .ulpOfOne) }
        let bins = binCount
        let row = out + t * bins + melOffset
        deinterleave(s.vMel, into: row, row + bins, row + 2 * bins, row + 3 * bins, count: melBins)
        if options.useEnergy {
            for lane in 0..<4 { out[(t + lane) * bins + energyColumn] = logEnergy(s.energies[lane]) }
        }
    }
}

/// Four lane-major rows of `count` floats (`rows[l·count + i]`) to lane-interleaved (`out[4i + l]`).
@inline(__always)
func interleave(_ rows: UnsafePointer<Float>, into out: FloatPointer, count: Int) {
    var i = 0
    while i + 4 <= count {
        @inline(__always) func row(_ l: Int) -> Vec { UnsafeRawPointer(rows + l * count + i).loadUnaligned(as: Vec.self) }
        let (c0, c1, c2, c3) = transpose(row(0), row(1), row(2), row(3))
        store4(c0, out, 4 * i)
        store4(c1, out, 4 * i + 4)
        store4(c2, out, 4 * i + 8)
        store4(c3, out, 4 * i + 12)
        i += 4
    }
    while i < count {
        for l in 0..<4 { out[4 * i + l] = rows[l * count + i] }
        i += 1
    }
}

/// Lane-interleaved `count` values (`v[4i + l]`) back to four separate rows.
@inline(__always)
func deinterleave(_ v: UnsafePointer<Float>, into r0: FloatPointer, _ r1: FloatPointer, _ r2: FloatPointer,
                  _ r3: FloatPointer, count: Int) {
    var i = 0
    while i + 4 <= count {
        @inline(__always) func column(_ k: Int) -> Vec { UnsafeRawPointer(v + 4 * (i + k)).loadUnaligned(as: Vec.self) }
        let (a, b, c, d) = transpose(column(0), column(1), column(2), column(3))
        store4(a, r0, i)
        store4(b, r1, i)
        store4(c, r2, i)
        store4(d, r3, i)
        i += 4
    }
    while i < count {
        r0[i] = v[4 * i]
        r1[i] = v[4 * i + 1]
        r2[i] = v[4 * i + 2]
        r3[i] = v[4 * i + 3]
        i += 1
    }
}
