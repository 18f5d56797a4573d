import Testing
@testable import KinoGraph

@Suite struct FileLabelsTests {
    let names = ["speech", "music", "silence", "noise"]

    @Test func mainLabelsAreTheFrequentWinnersMostFrequentFirst() {
        // 10 windows of 2 s: music wins 6, speech 3, noise 1 (under a tenth? no: exactly a tenth).
        var windows: [(scores: [Float], start: Double, end: Double)] = []
        for i in 0..<10 {
            let scores: [Float] = i < 6 ? [0.2, 0.7, 0.05, 0.05] : (i < 9 ? [0.6, 0.3, 0.05, 0.05] : [0.1, 0.1, 0.1, 0.7])
            windows.append((scores, Double(2 * i), Double(2 * i + 2)))
        }
        let main = FileLabels.main(of: windows, names: names, multiLabel: false)
        #expect(main.map(\.label) == ["music", "speech", "noise"])
        #expect(main[0].share == 0.6 && main[0].seconds == 12)
        #expect(abs(main[0].meanScore - (6 * 0.7 + 3 * 0.3 + 0.1) / 10) < 1e-6)
        #expect(main[1].share == 0.3 && main[1].seconds == 6)
        // One window in twenty is below a tenth: not a main label.
        let more = windows + windows.map { ([0.2, 0.7, 0.05, 0.05], $0.start + 20, $0.end + 20) }
        #expect(FileLabels.main(of: more, names: names, multiLabel: false).map(\.label) == ["music", "speech"])
        #expect(FileLabels.main(of: [], names: names, multiLabel: false).isEmpty)
    }

    @Test func multiLabelCountsEveryLabelAtHalfOrMore() {
        let windows: [(scores: [Float], start: Double, end: Double)] = [
            ([0.9, 0.8, 0.1, 0.1], 0, 10), ([0.4, 0.9, 0.1, 0.1], 10, 20), ([0.1, 0.2, 0.3, 0.4], 20, 30),
        ]
        let main = FileLabels.main(of: windows, names: names, multiLabel: true)
        #expect(main.map(\.label) == ["music", "speech"])
        #expect(main[0].share == 2.0 / 3 && main[0].seconds == 20)
        #expect(main[1].seconds == 10)
    }
}
