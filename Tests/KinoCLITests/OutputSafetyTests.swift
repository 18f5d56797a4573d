import Foundation
import KinoFiles
import KinoTestSupport
import Testing

@Suite("Outputs: whole or absent, only over regular files, errors in plain words", .timeLimit(.minutes(2)))
struct OutputSafetyTests {
    @Test("a FIFO or a folder at an output path is refused, not replaced")
    func nonRegularOutputs() throws {
        let dir = TemporaryDirectory("kino-out")
        defer { dir.cleanup() }
        let fifo = dir.file("pipe.npy")
        #expect(mkfifo(fifo, 0o644) == 0)
        let r = try kino(["spectrogram", Repository.sample("speech.wav"), "-o", fifo])
        #expect(r.status == 1)
        #expect(r.err.contains("cannot write '\(fifo)': it is a FIFO"), "\(r.err)")
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")

        let model = "\(Repository.root)/Tests/KinoModelsTests/Fixtures/vit-a"
        let input = dir.file("in.safetensors")
        try AtomicFile.write(Data(), to: input)
        let m = try kino(["model", "run", "--model", model, "--input", input, "--output", fifo])
        #expect(m.status == 1 && m.err.contains("it is a FIFO"), "\(m.err)")
        #expect(lstat(fifo, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)

        #expect(throws: FileError.self) { try AtomicFile.write(Data([1]), to: "/dev/full") }
        #expect(throws: FileError.self) { try AtomicFile.write(Data([1]), to: dir.path) }
    }

    @Test("an atomic write replaces a regular file and writes through a symbolic link, keeping the link")
    func regularAndLinked() throws {
        let dir = TemporaryDirectory("kino-out")
        defer { dir.cleanup() }
        let target = dir.file("real.txt")
        try AtomicFile.write(Data("one".utf8), to: target)
        try AtomicFile.write(Data("two".utf8), to: target)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "two")
        let link = dir.file("link.txt")
        #expect(symlink(target, link) == 0)
        try AtomicFile.write(Data("three".utf8), to: link)
        var st = stat()
        #expect(lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "three")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["link.txt", "real.txt"])
    }

    @Test("model run with a missing input tensor is a data error (exit 1) naming the file and what it holds")
    func missingTensor() throws {
        let dir = TemporaryDirectory("kino-out")
        defer { dir.cleanup() }
        // Two tensors, neither named pixel_values.
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        var bytes = Array(header.utf8)
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: bytes)
        data.append(contentsOf: [UInt8](repeating: 0, count: 8))
        let input = dir.file("in.safetensors")
        try AtomicFile.write(data, to: input)
        let r = try kino(["model", "run", "--model", "\(Repository.root)/Tests/KinoModelsTests/Fixtures/vit-a",
                          "--input", input, "--output", dir.file("out.safetensors")])
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.contains("\(input): has no tensor 'pixel_values' (it holds: a, b)"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.safetensors")))
    }

    @Test("file-system failures read as the path and the cause, never as an NSCocoaErrorDomain dump")
    func plainMessages() throws {
        let dir = TemporaryDirectory("kino-out")
        defer { dir.cleanup() }
        try AtomicFile.write(Data(), to: dir.file("afile"))
        let process = try kino(["process", Repository.sample("speech.wav"), "-o", dir.file("afile/out")])
        #expect(process.status == 1)
        #expect(process.err.contains("cannot create folder '\(dir.file("afile"))': a file of that name exists"), "\(process.err)")
        let spectrogram = try kino(["spectrogram", Repository.sample("speech.wav"), "-o", dir.file("nowhere/x.npy")])
        #expect(spectrogram.err.contains("the folder '\(dir.file("nowhere"))' does not exist"), "\(spectrogram.err)")
        let long = try kino(["frames", Repository.sample("vfr.mp4"), "--count", "1", "-o", dir.file(String(repeating: "x", count: 300))])
        #expect(long.status == 1 && long.err.contains("ile name too long"), "\(long.err)")
        for r in [process, spectrogram, long] { #expect(!r.err.contains("NSCocoaErrorDomain") && !r.err.contains("UserInfo")) }

        let full = CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: "/x/summary.json",
                                                                NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC))])
        #expect(plainDescription(of: full) == "cannot write '/x/summary.json': no space left on device")
        let readOnly = CocoaError(.fileWriteVolumeReadOnly, userInfo: [NSFilePathErrorKey: "/ro/a"])
        #expect(plainDescription(of: readOnly) == "cannot write '/ro/a': read-only file system")
        let denied = CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: "/secret"])
        #expect(plainDescription(of: denied) == "cannot read '/secret': permission denied")
    }

    @Test("a file name that is not UTF-8 is reported as such, not as a plain 'not found'")
    func nonUTF8Name() throws {
        let dir = TemporaryDirectory("kino-out")
        defer { dir.cleanup() }
        let binary = try #require(KinoBinary.path)
        // The name is made and passed by the shell: Swift strings cannot hold the byte 0xE9 alone.
        let script = "cd '\(dir.path)' && cp '\(Repository.sample("speech.wav"))' \"$(printf 'caf\\351.wav')\" && "
            + "'\(binary)' probe \"$(printf 'caf\\351.wav')\" 2>&1; echo \"rc=$?\""
        let text = String(decoding: try runTool("sh", ["-c", script]), as: UTF8.self)
        #expect(text.contains("not valid UTF-8"), "\(text)")
        #expect(text.contains("rc=1"))
    }
}
