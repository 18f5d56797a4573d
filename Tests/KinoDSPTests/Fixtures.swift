import Foundation
@testable import KinoDSP

/// Reference fixtures written by `tools/make-fbank-fixtures.py` (torchaudio 2.5.1, transformers 4.46.3).
enum Fixtures {
    struct Input: Decodable, Sendable {
        let name: String
        let file: String
        let samples: Int
    }

    /// Options as torchaudio / transformers spell them; absent means the library default.
    struct Options: Decodable, Sendable {
        var window_type: String?
        var num_mel_bins: Int?
        var sample_frequency: Double?
        var frame_length: Double?
        var frame_shift: Double?
        var use_energy: Bool?
        var raw_energy: Bool?
        var energy_floor: Double?
        var htk_compat: Bool?
        var snip_edges: Bool?
        var low_freq: Double?
        var high_freq: Double?
        var round_to_power_of_two: Bool?
        var use_power: Bool?
        var use_log_fbank: Bool?
        var blackman_coeff: Double?
        var preemphasis_coefficient: Double?
        var remove_dc_offset: Bool?
        var subtract_mean: Bool?
        var max_length: Int?
        // torchaudio.transforms names
        var n_fft: Int?
        var win_length: Int?
        var hop_length: Int?
        var power: Float?
        var pad_mode: String?
        var normalized: Bool?
        var center: Bool?
        var n_mels: Int?
        var f_min: Double?
        var f_max: Double?
        var norm: String?
        var mel_scale: String?
        var n_mfcc: Int?
        var log_mels: Bool?
        var melkwargs: MelKwargs?

        struct MelKwargs: Decodable, Sendable {
            var n_fft: Int?
            var hop_length: Int?
            var n_mels: Int?
        }

        /// STFT options equivalent to these (torchaudio defaults otherwise).
        var spectrogram: SpectrogramOptions {
            var o = SpectrogramOptions()
            o.fftSize = n_fft ?? melkwargs?.n_fft ?? 400
            o.windowLength = win_length
            o.hopLength = hop_length ?? melkwargs?.hop_length
            if let v = power { o.power = v }
            if pad_mode == "constant" { o.padding = .zeros }
            if let v = normalized { o.normalized = v }
            if let v = center { o.center = v }
            return o
        }

        func melSpectrogram() throws -> MelSpectrogram {
            try MelSpectrogram(options: spectrogram, melCount: n_mels ?? melkwargs?.n_mels ?? 128,
                               minFrequency: f_min ?? 0, maxFrequency: f_max,
                               scale: mel_scale == "slaney" ? .slaney : .htk, norm: norm == "slaney" ? .slaney : .none)
        }

        /// The Swift options equivalent to these.
        var fbank: KaldiFbankOptions {
            var o = KaldiFbankOptions()
            if let v = window_type { o.windowType = WindowFunction(name: v)! }
            if case .blackman = o.windowType, let c = blackman_coeff { o.windowType = .blackman(coefficient: c) }
            if let v = num_mel_bins { o.numMelBins = v }
            if let v = sample_frequency { o.sampleFrequency = v }
            if let v = frame_length { o.frameLengthMs = v }
            if let v = frame_shift { o.frameShiftMs = v }
            if let v = use_energy { o.useEnergy = v }
            if let v = raw_energy { o.rawEnergy = v }
            if let v = energy_floor { o.energyFloor = v }
            if let v = htk_compat { o.htkCompat = v }
            if let v = snip_edges { o.snipEdges = v }
            if let v = low_freq { o.lowFrequency = v }
            if let v = high_freq { o.highFrequency = v }
            if let v = round_to_power_of_two { o.roundToPowerOfTwo = v }
            if let v = use_power { o.usePower = v }
            if let v = use_log_fbank { o.useLogFbank = v }
            if let v = preemphasis_coefficient { o.preemphasisCoefficient = v }
            if let v = remove_dc_offset { o.removeDCOffset = v }
            if let v = subtract_mean { o.subtractMean = v }
            return o
        }
    }

    struct Case: Decodable, Sendable, CustomStringConvertible {
        let name: String
        let kind: String
        let input: String
        let options: Options
        let shape: [Int]
        let file: String
        var description: String { name }
    }

    struct Manifest: Decodable, Sendable {
        let inputs: [Input]
        let cases: [Case]
    }

    static let directory: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func cases(kind: String) -> [Case] { manifest.cases.filter { $0.kind == kind } }

    /// A float32 little-endian file as `[Float]`.
    static func floats(_ file: String) -> [Float] {
        let data = try! Data(contentsOf: directory.appendingPathComponent(file))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    static func input(_ name: String) -> [Float] {
        floats(manifest.inputs.first { $0.name == name }!.file)
    }
}

/// Mean and max absolute difference of two equally long arrays.
func differences(_ a: [Float], _ b: [Float]) -> (mean: Double, max: Double) {
    precondition(a.count == b.count)
    guard !a.isEmpty else { return (0, 0) }
    var sum = 0.0, worst = 0.0
    for i in a.indices {
        let d = Double(abs(a[i] - b[i]))
        sum += d
        worst = max(worst, d)
    }
    return (sum / Double(a.count), worst)
}
