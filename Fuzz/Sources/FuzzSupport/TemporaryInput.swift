import Foundation

/// A per-process scratch folder for fuzz inputs, in /dev/shm when it exists so that writing each
/// input costs no disk I/O.
public enum FuzzScratch {
    /// `$KINO_FUZZ_SCRATCH` (else /dev/shm, else the temporary directory) + `/kino-fuzz-<pid>`,
    /// created on first use and removed when the process exits normally. libFuzzer's fork mode
    /// starts a process per job, and one that crashes leaves its folder behind, so
    /// `Fuzz/run-fuzz.sh` points the variable at a folder of its own and removes that at the end.
    public static let folder: String = {
        let base = ProcessInfo.processInfo.environment["KINO_FUZZ_SCRATCH"]
            ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        let path = base + "/kino-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FuzzScratch.folder) }
        return path
    }()

    /// Writes `bytes` to `name` inside ``folder`` (replacing it) and returns the path.
    public static func write(_ bytes: UnsafeRawBufferPointer, as name: String) -> String {
        let path = folder + "/" + name
        let data = bytes.isEmpty ? Data() : Data(bytes)
        if !FileManager.default.createFile(atPath: path, contents: data) {
            fatalError("fuzz harness cannot write \(path)")
        }
        return path
    }

    /// The repository root, found from this file's location (Fuzz/Sources/FuzzSupport/…).
    public static let repositoryRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }()
}
