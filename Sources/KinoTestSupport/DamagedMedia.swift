import Foundation

/// Damaged inputs made from one clean 4 s clip (160×120, 25 fps H.264 and AAC, index at the
/// front), encoded once per test process with one encoder thread so the bytes are the same on
/// every machine.
public enum DamagedMedia {
    static let folder = TemporaryDirectory()
    /// The clean clip.
    public static let clean = folder.file("clean.mp4")
    /// Whether encoding the clean clip worked; `get()` rethrows its error.
    public static let made: Result<Void, any Error> = Result {
        _ = try runTool("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=4",
                                   "-f", "lavfi", "-i", "sine=f=440:d=4", "-c:v", "libx264", "-threads", "1", "-g", "25",
                                   "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", clean])
    }

    /// The clean clip cut at `fraction` of its bytes: the index promises 4 s, the data ends early.
    public static func truncated(_ fraction: Double, name: String) throws -> String {
        try made.get()
        let data = try Data(contentsOf: URL(fileURLWithPath: clean))
        let path = folder.file(name)
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The clean clip with `count` bytes after its first fifth overwritten (a fixed pseudo-random pattern).
    public static func corrupted(count: Int, name: String) throws -> String {
        try made.get()
        var data = try Data(contentsOf: URL(fileURLWithPath: clean))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for _ in 0..<count {
            let at = data.count / 5 + Int(next() % UInt64(data.count - data.count / 5))
            data[at] = UInt8(truncatingIfNeeded: next())
        }
        let path = folder.file(name)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }
}
