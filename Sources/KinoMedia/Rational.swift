/// An exact rational number, used for time bases and frame rates.
///
/// FFmpeg expresses timestamps as integers in a per-stream time base; keeping the rational
/// lets Kino report times exactly and convert to seconds only at the edges.
public struct Rational: Sendable, Hashable, Codable, CustomStringConvertible {
    public var numerator: Int64
    public var denominator: Int64

    public init(_ numerator: Int64, _ denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The value as a Double; 0 when the denominator is 0 (FFmpeg's "unknown").
    public var doubleValue: Double {
        denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }

    /// True when the value is known (non-zero denominator and numerator).
    public var isValid: Bool { denominator != 0 && numerator != 0 }

    /// Seconds for a timestamp expressed in this time base.
    public func seconds(_ ticks: Int64) -> Double {
        denominator == 0 ? 0 : Double(ticks) * Double(numerator) / Double(denominator)
    }

    /// The timestamp in this time base nearest to `seconds`.
    public func ticks(forSeconds seconds: Double) -> Int64 {
        guard numerator != 0 else { return 0 }
        return Int64((seconds * Double(denominator) / Double(numerator)).rounded())
    }

    public var description: String { "\(numerator)/\(denominator)" }
}
