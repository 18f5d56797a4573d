// Follows torchaudio.compliance.kaldi.fbank (torchaudio 2.5), itself a port of Kaldi's compute-fbank-feats.

import Dispatch
import Foundation

/// Kaldi log mel filterbank features, computed as `torchaudio.compliance.kaldi.fbank` computes them.
///
/// For each frame: optional dither, removal of the frame mean, raw log-energy, pre-emphasis,
/// window, zero padding to the FFT length, power (or magnitude) spectrum, the Kaldi mel filters
/// (Nyquist bin excluded), and `ln(max(E, 1.1920929e−7))`. All arithmetic is `Float`, as in torchaudio.
///
/// Defined behaviour at the edges:
/// - **Silence** gives `ln(ε) = −15.942385` in every band (never −∞ or NaN) and, with
///   ``KaldiFbankOptions/useEnergy``, an energy of `max(ln ε, ln energyFloor)` (0 with the default floor).
/// - **Empty bands**: with AST settings (128 bins, 512-point FFT at 16 kHz) band 3 lies between
///   two FFT bins, so it is `ln ε` in every frame, in torchaudio too.
/// - **DC** is removed per frame by ``KaldiFbankOptions/removeDCOffset``, so a constant offset
///   changes nothing; without it the offset shows up in the lowest filters.
/// - **Clipped** input is processed as given; no limiting or rescaling is applied (the samples are
///   not scaled by 32768 either: pass floats in `[−1, 1]` for the AST statistics to hold).
/// - **Shorter than one window** (or than ``KaldiFbankOptions/minDuration``): with snip-edges,
///   ``compute(_:threads:)`` returns **0 frames** (`frames == 0`, `bins == binCount`), where torchaudio
///   raises an assertion error. Without snip-edges it returns `(N + shift/2) / shift` mirrored frames,
///   as Kaldi does.
///
/// ```swift
/// let fbank = try KaldiFbank(options: .ast)
/// let features = fbank.compute(samples)      // [frames, 128]
/// ```
public struct KaldiFbank: Sendable {
    /// The options this extractor was built with.
    public let options: KaldiFbankOptions
    /// Samples per frame (400 at 16 kHz, 25 ms).
    public let windowSize: Int
    /// Samples between frame starts (160 at 16 kHz, 10 ms).
    public let windowShift: Int
    /// FFT length (512 for a 400-sample window rounded to a power of two).
    public let paddedWindowSize: Int
    /// Columns of the output: mel bins, plus one with ``KaldiFbankOptions/useEnergy``.
    public var binCount: Int { options.numMelBins + (options.useEnergy ? 1 : 0) }

    let window: [Float]
    let fft: RealFFT
    let filterbank: MelFilterbank

    /// Prepares the window, FFT plan and mel filters for `options`.
    ///
    /// - Throws: ``DSPError/invalidOption(name:value:reason:)`` for any option torchaudio would reject.
    public init(options: KaldiFbankOptions = KaldiFbankOptions()) throws {
        try options.validate()
        self.options = options
        windowSize = options.windowSize
        windowShift = options.windowShift
        paddedWindowSize = options.paddedWindowSize
        window = options.windowType.samples(length: windowSize)
        fft = RealFFT(size: paddedWindowSize)
        filterbank = try MelFilterbank.kaldi(filterCount: options.numMelBins, fftSize: paddedWindowSize,
                                             sampleRate: options.sampleFrequency,
                                             lowFrequency: options.lowFrequency, highFrequency: options.highFrequency)
    }

    /// Number of frames ``compute(_:threads:)`` returns for `sampleCount` samples.
    public func frameCount(sampleCount n: Int) -> Int {
        if Double(n) < options.minDuration * options.sampleFrequency { return 0 }
        if options.snipEdges { return n < windowSize ? 0 : 1 + (n - windowSize) / windowShift }
        return (n + windowShift / 2) / windowShift
    }

    /// Start time in seconds of frame `index` (its first sample; with snip-edges off it may be negative).
    public func frameStart(_ index: Int) -> Double {
        let offset = options.snipEdges ? 0 : windowSize / 2 - windowShift / 2
        return Double(index * windowShift - offset) / options.sampleFrequency
    }

    /// Filterbank features of a mono signal.
    ///
    /// Frames are processed four at a time, one per SIMD lane, when the FFT length is a power of
    /// two (the usual case); the remaining frames, and other lengths, go one at a time. The result
    /// does not depend on `threads`: every frame is computed the same way wherever it runs.
    ///
    /// - Parameters:
    ///   - samples: the waveform at ``KaldiFbankOptions/sampleFrequency``, unscaled floats.
    ///   - threads: split the frames over this many threads (`DispatchQueue.concurrentPerform`);
    ///     the default 1 stays on the caller's thread, which suits a graph that parallelises across clips.
    /// - Returns: a `[frameCount, binCount]` matrix; 0 frames when the signal is too short (see the type's notes).
    public func compute(_ samples: [Float], threads: Int = 1) -> FeatureMatrix {
        let frames = frameCount(sampleCount: samples.count)
        guard frames > 0 else { return FeatureMatrix(frames: 0, bins: binCount, values: []) }
        // Chunks of whole batches, at least 64 frames each.
        let chunks = max(1, min(threads, frames / 64))
        let chunkFrames = ((frames + chunks - 1) / chunks + 3) / 4 * 4
        // Every value is written below, so the result skips zero-filling.
        let out = [Float](unsafeUninitializedCapacity: frames * binCount) { o, initialized in
            initialized = frames * binCount
            samples.withUnsafeBufferPointer { x in
                window.withUnsafeBufferPointer { win in
                    let shared = FrameLoop(samples: x, window: win.baseAddress!, out: o.baseAddress!)
                    if chunks == 1 {
                        computeFrames(0..<frames, shared)
                    } else {
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            let start = min(frames, chunk * chunkFrames)
                            computeFrames(start..<min(frames, start + chunkFrames), shared)
                        }
                    }
                }
            }
        }
        var result = FeatureMatrix(frames: frames, bins: binCount, values: out)
        if options.subtractMean { result.subtractColumnMeans() }
        return result
    }

    /// Frames `range` into their rows of the output, with scratch of their own.
    private func computeFrames(_ range: Range<Int>, _ loop: FrameLoop) {
        guard !range.isEmpty else { return }
        let scratch = Scratch(windowSize: windowSize, half: paddedWindowSize / 2, melBins: options.numMelBins)
        defer { scratch.deallocate() }
        var t = range.lowerBound
        if fft.supportsBatch {
            while t + 4 <= range.upperBound {
                computeFour(t, loop.samples, loop.window, loop.out, scratch)
                t += 4
            }
        }
        while t < range.upperBound {
            computeOne(t, loop.samples, loop.window, loop.out + t * binCount, scratch)
            t += 1
        }
    }

    /// Frame `t` alone, written to `row`.
    private func computeOne(_ t: Int, _ x: UnsafeBufferPointer<Float>, _ window: UnsafePointer<Float>,
                            _ row: FloatPointer, _ s: Scratch) {
        let half = paddedWindowSize / 2
        let (source, mean) = frameSource(t, from: x, scratch: s.frame)
        var energy: Float = 0
        if options.useEnergy && options.rawEnergy { energy = sumOfSquares(source, windowSize, minus: mean) }
        preemphasizeAndPack(source, mean: mean, window: window, s.zr, s.zi)
        if options.useEnergy && !options.rawEnergy { energy = sumOfSquares(s.zr, half) + sumOfSquares(s.zi, half) }
        fft.transformPacked(s.zr, s.zi, s.wr, s.wi, s.outR, s.outI)
        powerSpectrum(s.outR, s.outI, into: s.spectrum, count: half + 1, magnitude: !options.usePower)
        let mel = row + melOffset
        filterbank.apply(s.spectrum, into: mel)
        if options.useLogFbank { logFloor(mel, count: options.numMelBins, floor: .ulpOfOne) }
        if options.useEnergy { row[energyColumn] = logEnergy(energy) }
    }

    /// Column of the first mel band: 1 when an energy column comes first.
    var melOffset: Int { options.useEnergy && !options.htkCompat ? 1 : 0 }
    /// Column of the energy: last with `htkCompat`, else first.
    var energyColumn: Int { options.htkCompat ? options.numMelBins : 0 }

    /// `max(ln(max(E, ε)), ln(energyFloor))`, the floor skipped when it is 0.
    @inline(__always)
    func logEnergy(_ energy: Float) -> Float {
        let value = log(max(energy, Float.ulpOfOne))
        return options.energyFloor > 0 ? max(value, Float(log(options.energyFloor))) : value
    }

    /// Locates frame `t` and its mean (0 unless ``KaldiFbankOptions/removeDCOffset``).
    ///
    /// A frame inside the signal is read in place; one that needs mirroring or dither is copied
    /// into `scratch` first. The mean is subtracted later, sample by sample, exactly as torchaudio
    /// rounds `x − mean`.
    @inline(__always)
    func frameSource(_ t: Int, from x: UnsafeBufferPointer<Float>, scratch: FloatPointer) -> (UnsafePointer<Float>, Float) {
        let n = x.count
        let start = options.snipEdges ? t * windowShift : t * windowShift - (windowSize / 2 - windowShift / 2)
        var source = UnsafePointer(scratch)
        if start >= 0 && start + windowSize <= n && options.dither == 0 {
            source = x.baseAddress! + start
        } else {
            for j in 0..<windowSize { scratch[j] = x[mirror(start + j, n)] }
            if options.dither > 0 {
                // Each frame has its own stream, so results do not depend on batching or threads.
                var noise = GaussianNoise(seed: options.ditherSeed &+ UInt64(t) &* 0x9E37_79B9_7F4A_7C15)
                let scale = Float(options.dither)
                for j in 0..<windowSize { scratch[j] += scale * noise.next() }
            }
        }
        let mean = options.removeDCOffset ? sum(source, windowSize) / Float(windowSize) : 0
        return (source, mean)
    }

    /// Removes the mean, pre-emphasises and windows the frame, writing even samples to `zr` and
    /// odd ones to `zi`, zero-padded to the FFT length.
    @inline(__always)
    func preemphasizeAndPack(_ frame: UnsafePointer<Float>, mean: Float, window: UnsafePointer<Float>,
                                     _ zr: FloatPointer, _ zi: FloatPointer) {
        let c = Float(options.preemphasisCoefficient), cv = Vec8(repeating: c), mv = Vec8(repeating: mean)
        let x0 = frame[0] - mean
        var j = 0
        // Eight outputs per step: y[j] = (x[j] − c·x[j−1])·w[j], with x[−1] = x[0] on the first step.
        while j + 8 <= windowSize {
            let current = load8(frame, j) - mv
            let previous = j == 0 ? Vec8(x0, x0, current[1], current[2], current[3], current[4], current[5], current[6])
                                  : load8(frame, j - 1) - mv
            let y = (current - cv * previous) * load8(window, j)
            store4(y.evenHalf, zr, j >> 1)
            store4(y.oddHalf, zi, j >> 1)
            j += 8
        }
        while j < windowSize {
            let value = ((frame[j] - mean) - c * (frame[max(j - 1, 0)] - mean)) * window[j]
            if j & 1 == 0 { zr[j >> 1] = value } else { zi[j >> 1] = value }
            j += 1
        }
        let half = paddedWindowSize / 2
        if windowSize & 1 == 1 { zi[windowSize >> 1] = 0 }
        let used = (windowSize + 1) >> 1
        if used < half {
            (zr + used).update(repeating: 0, count: half - used)
            (zi + used).update(repeating: 0, count: half - used)
        }
    }
}

/// Kaldi's mirror rule for samples outside `[0, n)`: `x[−1−k] = x[k]`, `x[n+k] = x[n−1−k]`, repeated as needed.
@inline(__always)
func mirror(_ index: Int, _ n: Int) -> Int {
    var i = index
    while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - 1 - i }
    return i
}
