import Foundation

/// Small media files written without any tool, for tests that need many of them.
public enum TinyMedia {
    /// A 16-bit mono PCM WAV file: a sine tone of `seconds` at `sampleRate`.
    ///
    /// The header is written by hand (RIFF/WAVE, `fmt ` chunk with PCM format 1, `data` chunk),
    /// so a thousand files cost milliseconds; libsndfile and FFmpeg read them as they would any WAV.
    public static func wavData(seconds: Double, sampleRate: Int = 8000, frequency: Double = 440) -> Data {
        let count = Int((seconds * Double(sampleRate)).rounded())
        var data = Data()
        func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        func put16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); put32(UInt32(36 + count * 2))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); put32(16)
        put16(1); put16(1); put32(UInt32(sampleRate)); put32(UInt32(sampleRate * 2)); put16(2); put16(16)
        data.append(contentsOf: Array("data".utf8)); put32(UInt32(count * 2))
        for i in 0..<count {
            let value = sin(2 * Double.pi * frequency * Double(i) / Double(sampleRate)) * 12000
            put16(UInt16(bitPattern: Int16(value)))
        }
        return data
    }

    /// Writes ``wavData(seconds:sampleRate:frequency:)`` to `path`.
    public static func writeWAV(to path: String, seconds: Double, sampleRate: Int = 8000, frequency: Double = 440) throws {
        try wavData(seconds: seconds, sampleRate: sampleRate, frequency: frequency).write(to: URL(fileURLWithPath: path))
    }

    /// Bytes that no demuxer accepts, under whatever name the test gives them.
    ///
    /// The bytes are a fixed pseudo-random sequence: truly random junk is now and then taken by
    /// FFmpeg's probe for some raw format, which made tests depending on it flaky.
    public static func writeCorrupt(to path: String, bytes: Int = 4096) throws {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let junk = (0..<bytes).map { _ -> UInt8 in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        try Data(junk).write(to: URL(fileURLWithPath: path))
    }
}

/// The `kino` binary built by `swift build` in this checkout, for end-to-end tests.
///
/// `$KINO_BINARY` names another one (say, built with `--scratch-path`).
public enum KinoBinary {
    public static var path: String? {
        if let given = ProcessInfo.processInfo.environment["KINO_BINARY"], !given.isEmpty {
            return FileManager.default.isExecutableFile(atPath: given) ? given : nil
        }
        // The test runner sits beside the binary in whatever scratch path built both
        // (`swift build --scratch-path X` puts them in X/debug), so look there first.
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let sibling = runner.deletingLastPathComponent().appendingPathComponent("kino").path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        for configuration in ["debug", "release"] {
            let candidate = "\(Repository.root)/.build/\(configuration)/kino"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// What one run of the binary did.
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
        /// Whether the run was killed for outlasting its timeout.
        public var timedOut = false
        /// Whether it exited by itself (not killed by a signal, not timed out).
        public var exited = true
    }

    /// Runs the built binary with `arguments` and waits for it. Standard error is collected on
    /// another thread, so a chatty command cannot fill one pipe while the other is being read.
    /// With a `timeout`, a run still going after that many seconds is killed and reported
    /// `timedOut` (so a hang fails its test instead of stalling the suite).
    /// - Throws: when the binary has not been built.
    public static func run(_ arguments: [String], timeout: Double? = nil) throws -> Result {
        guard let binary = path else {
            throw NSError(domain: "kino.test", code: 1, userInfo: [NSLocalizedDescriptionKey: "build the kino product first (swift build)"])
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let killed = ErrorsBox()
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                guard process.isRunning else { return }
                killed.timedOut = true
                kill(process.processIdentifier, SIGKILL)
            }
        }
        let errors = ErrorsBox()
        let reader = Thread { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        var result = Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                            errors: String(decoding: errors.data, as: UTF8.self))
        result.timedOut = killed.timedOut
        result.exited = !killed.timedOut && process.terminationReason == .exit
        return result
    }

    private final class ErrorsBox: @unchecked Sendable {
        var data = Data()
        var timedOut = false
    }
}
