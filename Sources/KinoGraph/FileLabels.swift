import Foundation

/// What one classifier stage concluded about a whole file, for `summary.json`: the model it
/// ran (or why it did not run) and the file's main labels.
///
/// A window counts for a label when the label is its top one (softmax models) or scores at
/// least 0.5 (sigmoid, multi-label models). Main labels are those that win at least a tenth of
/// the windows (the most frequent one always), most frequent first.
public struct FileLabels: Sendable, Codable, Equatable {
    /// One main label.
    public struct Main: Sendable, Codable, Equatable {
        public var label: String
        /// Share of the classified windows the label wins, 0…1.
        public var share: Double
        /// Media seconds covered by the windows it wins (overlapping windows count once each).
        public var seconds: Double
        /// Its mean score over all windows.
        public var meanScore: Double

        public init(label: String, share: Double, seconds: Double, meanScore: Double) {
            self.label = label
            self.share = share
            self.seconds = seconds
            self.meanScore = meanScore
        }
    }

    /// The classifier stage's id.
    public var stage: String
    /// The model's name (its folder's, `kino-sounds` for a shipped one); `nil` when off.
    public var model: String?
    /// `true` when the stage classified; `false` when it was off (see ``reason``).
    public var ran: Bool
    /// Why the stage did not run.
    public var reason: String?
    /// Windows (clips, audio windows) classified.
    public var windows: Int
    public var labels: [Main]

    public init(stage: String, model: String?, ran: Bool, reason: String? = nil, windows: Int = 0, labels: [Main] = []) {
        self.stage = stage
        self.model = model
        self.ran = ran
        self.reason = reason
        self.windows = windows
        self.labels = labels
    }

    /// The main labels of `windows` (each its per-label probabilities and time range) for
    /// labels named `names`; `multiLabel` counts every label scoring ≥ 0.5 instead of the top one.
    public static func main(of windows: [(scores: [Float], start: Double, end: Double)], names: [String],
                            multiLabel: Bool) -> [Main] {
        guard !windows.isEmpty else { return [] }
        var wins = [Int](repeating: 0, count: names.count)
        var seconds = [Double](repeating: 0, count: names.count)
        var sums = [Double](repeating: 0, count: names.count)
        for w in windows {
            for (i, s) in w.scores.enumerated() where i < names.count { sums[i] += Double(s) }
            let winners: [Int]
            if multiLabel {
                winners = w.scores.indices.filter { $0 < names.count && w.scores[$0] >= 0.5 }
            } else {
                winners = w.scores.indices.max(by: { w.scores[$0] < w.scores[$1] }).map { [$0] } ?? []
            }
            for i in winners {
                wins[i] += 1
                seconds[i] += max(0, w.end - w.start)
            }
        }
        let n = Double(windows.count)
        let order = names.indices.filter { wins[$0] > 0 }.sorted { wins[$0] != wins[$1] ? wins[$0] > wins[$1] : $0 < $1 }
        return order.enumerated().filter { rank, i in rank == 0 || Double(wins[i]) >= 0.1 * n }.map { _, i in
            Main(label: names[i], share: Double(wins[i]) / n, seconds: seconds[i], meanScore: sums[i] / n)
        }
    }
}
