/// A row-major `[frames, bins]` matrix of features (time × frequency), `Float32`.
///
/// Row `t` holds frame `t`; column `b` is a mel filter (or FFT bin), lowest frequency first.
/// This is the layout torchaudio's `kaldi.fbank` and Hugging Face's feature extractors return.
public struct FeatureMatrix: Sendable, Equatable {
    /// Number of rows (analysis frames).
    public let frames: Int
    /// Number of columns (filters or frequency bins).
    public let bins: Int
    /// `frames × bins` values, frame after frame. Change single values through the subscript,
    /// which keeps the count in step with the shape.
    public internal(set) var values: [Float]

    /// Wraps `values` as a `frames × bins` matrix.
    ///
    /// - Precondition: `values.count == frames × bins`.
    public init(frames: Int, bins: Int, values: [Float]) {
        precondition(frames >= 0 && bins >= 0 && values.count == frames * bins,
                     "FeatureMatrix: \(values.count) values for \(frames)×\(bins)")
        self.frames = frames
        self.bins = bins
        self.values = values
    }

    /// A `frames × bins` matrix filled with `value`.
    public init(frames: Int, bins: Int, repeating value: Float) {
        self.init(frames: frames, bins: bins, values: [Float](repeating: value, count: frames * bins))
    }

    /// The value at frame `frame`, bin `bin`.
    public subscript(frame: Int, bin: Int) -> Float {
        get { values[frame * bins + bin] }
        set { values[frame * bins + bin] = newValue }
    }

    /// One frame as an array of `bins` values.
    public func row(_ frame: Int) -> ArraySlice<Float> {
        values[(frame * bins)..<((frame + 1) * bins)]
    }

    /// Frames `range` as a new matrix (no padding; the range must lie inside the matrix).
    public func rows(_ range: Range<Int>) -> FeatureMatrix {
        FeatureMatrix(frames: range.count, bins: bins,
                      values: Array(values[(range.lowerBound * bins)..<(range.upperBound * bins)]))
    }
}
