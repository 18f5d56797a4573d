import Foundation
import Testing
@testable import KinoDSP

/// STFT, mel spectrogram (dB) and MFCC against torchaudio.transforms.
@Suite struct SpectrogramReferenceTests {
    @Test(arguments: Fixtures.cases(kind: "stft"))
    func stftMatchesTorchaudio(_ reference: Fixtures.Case) throws {
        let got = try Spectrogram(options: reference.options.spectrogram).compute(Fixtures.input(reference.input))
        let want = Fixtures.floats(reference.file)
        #expect([got.frames, got.bins] == reference.shape)
        guard got.values.count == want.count else { return }
        // Relative to the loudest bin: float32 spectra carry ~1e-7 relative rounding.
        let peak = Double(want.max() ?? 1)
        let d = differences(got.values, want)
        print("stft \(reference.name): " + String(format: "mean |Δ|/peak %.2e, max |Δ|/peak %.2e", d.mean / peak, d.max / peak))
        #expect(d.max / peak <= 1e-5)
    }

    @Test(arguments: Fixtures.cases(kind: "melspec_db"))
    func melSpectrogramDecibelsMatchTorchaudio(_ reference: Fixtures.Case) throws {
        let mel = try reference.options.melSpectrogram().compute(Fixtures.input(reference.input))
        let got = Spectrogram.decibels(mel, multiplier: 10, topDB: 80)
        let want = Fixtures.floats(reference.file)
        #expect([got.frames, got.bins] == reference.shape)
        guard got.values.count == want.count else { return }
        let d = differences(got.values, want)
        print("melspec_db \(reference.name): " + String(format: "mean |Δ| %.2e dB, max |Δ| %.2e dB", d.mean, d.max))
        #expect(d.mean <= 1e-3)
        #expect(d.max <= 2e-2)
    }

    @Test(arguments: Fixtures.cases(kind: "mfcc"))
    func mfccMatchesTorchaudio(_ reference: Fixtures.Case) throws {
        let options = reference.options
        let mfcc = try MFCC(melSpectrogram: options.melSpectrogram(), coefficientCount: options.n_mfcc ?? 40,
                            logMels: options.log_mels ?? false)
        let got = mfcc.compute(Fixtures.input(reference.input))
        let want = Fixtures.floats(reference.file)
        #expect([got.frames, got.bins] == reference.shape)
        guard got.values.count == want.count else { return }
        let d = differences(got.values, want)
        print("mfcc \(reference.name): " + String(format: "mean |Δ| %.2e, max |Δ| %.2e", d.mean, d.max))
        #expect(d.mean <= 2e-3)
        #expect(d.max <= 2e-2)
    }

    @Test func kaldiAndHTKScalesAgree() {
        for hertz in stride(from: 0.0, through: 8000, by: 250) {
            #expect(abs(MelScale.kaldi.mel(hertz) - MelScale.htk.mel(hertz)) < 1e-2 * max(1, MelScale.htk.mel(hertz)) / 100)
            for scale in [MelScale.kaldi, .htk, .slaney] {
                #expect(abs(scale.hertz(scale.mel(hertz)) - hertz) < 1e-6 * max(1, hertz))
            }
        }
    }

    @Test func silenceIsFloored() throws {
        let mel = try MelSpectrogram(melCount: 40).compute([Float](repeating: 0, count: 4000))
        #expect(mel.values.allSatisfy { $0 == 0 })
        let db = Spectrogram.decibels(mel)
        #expect(db.values.allSatisfy { $0 == -100 })
        let mfcc = try MFCC(melSpectrogram: MelSpectrogram(melCount: 40), coefficientCount: 13).compute([Float](repeating: 0, count: 4000))
        #expect(mfcc.values.allSatisfy { $0.isFinite })
    }
}
