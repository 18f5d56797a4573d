import Foundation
import KinoMedia

/// Generates test clips whose frames carry their own index in their pixels, so a test can check
/// that the frame it got is the frame it asked for.
///
/// The index is written as 10 bits in a row of 32×32 black/white squares along the top; the rest
/// of the picture is a moving pattern so the encoder uses real motion and B-frames.
public enum SyntheticVideo {
    public static let bits = 10
    public static let cell = 32

    /// A picture for frame `index` (rgb24, width ≥ 320, height ≥ 64).
    public static func picture(index: Int, width: Int = 320, height: Int = 240) -> VideoFrame {
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let o = 3 * (y * width + x)
                if y < cell {
                    let bit = x / cell
                    let on = bit < bits && (index >> bit) & 1 == 1
                    let v: UInt8 = bit < bits ? (on ? 235 : 20) : 128
                    bytes[o] = v; bytes[o + 1] = v; bytes[o + 2] = v
                } else {
                    // Diagonal stripes drifting two pixels per frame, plus a slow colour ramp.
                    let s = (x + y + 2 * index) % 64
                    bytes[o] = UInt8(s * 4)
                    bytes[o + 1] = UInt8((y * 255) / height)
                    bytes[o + 2] = UInt8((x * 255) / width)
                }
            }
        }
        return VideoFrame(index: index, pts: 0, timeBase: Rational(1, 1), seconds: 0,
                          width: width, height: height, layout: .rgb24, bytes: bytes)
    }

    /// Reads back the index written by `picture(index:)` from a decoded rgb24 or gray8 frame.
    public static func decodeIndex(_ frame: VideoFrame) -> Int {
        let channels = frame.layout.channels
        var value = 0
        for bit in 0..<bits {
            var sum = 0, n = 0
            for y in 8..<(cell - 8) {
                for x in (bit * cell + 8)..<(bit * cell + cell - 8) {
                    sum += Int(frame.bytes[(y * frame.width + x) * channels]); n += 1
                }
            }
            if sum / n > 128 { value |= 1 << bit }
        }
        return value
    }

    /// Writes an H.264 MP4 of `count` indexed frames.
    /// - Parameters:
    ///   - times: Optional presentation time of each frame (variable frame rate); default `n / fps`.
    public static func writeClip(to path: String, count: Int, fps: Rational = Rational(30, 1),
                                 gop: Int = 30, bFrames: Int = 3, times: [Double]? = nil,
                                 width: Int = 320, height: Int = 240) throws {
        let encoder = try VideoEncoder(path: path, width: width, height: height, fps: fps,
                                       options: VideoEncodeOptions(crf: 18, preset: "veryfast", gop: gop, bFrames: bFrames, threads: 1))
        for i in 0..<count {
            try encoder.append(picture(index: i, width: width, height: height), seconds: times?[i])
        }
        try encoder.finish()
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "kino-test") {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Locates the repository root (for `samples/`) from this source file's location.
public enum Repository {
    public static var root: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    public static func sample(_ name: String) -> String { "\(root)/samples/\(name)" }
}

/// Runs a command and returns its standard output (for comparisons with the `ffmpeg` CLI).
public func runTool(_ executable: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "kino.test", code: Int(process.terminationStatus),
                      userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments.joined(separator: " ")) failed"])
    }
    return data
}

/// Resident memory of this process in bytes (Linux `/proc/self/statm`).
public func residentMemory() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
