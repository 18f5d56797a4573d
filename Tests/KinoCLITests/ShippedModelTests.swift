import Foundation
import Testing
import KinoTestSupport

/// The models shipped in models/: they load, run, and reach their stated accuracy on committed
/// held-out files; `kino classify` without --model uses them. Nothing here trains a model.
@Suite(.timeLimit(.minutes(3))) struct ShippedModelTests {
    static let sounds = "\(Repository.root)/models/kino-sounds"
    static let soundLabels = ["alarm", "bell", "knock", "music", "noise", "silence", "siren", "speech"]
    static let motion = "\(Repository.root)/models/kino-motion"
    static let motionLabels = ["pan-left", "pan-right", "rotate", "shake", "static", "tilt-down", "tilt-up", "zoom-in", "zoom-out"]

    func json(_ line: Substring) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// The summary line of `kino classify FILE --json` (no --model): the shipped model's name and top label.
    func summary(_ file: String) throws -> (model: String?, top: String, scores: [String: Double]) {
        let r = try KinoBinary.run(["classify", file, "--json", "--top-k", "8"])
        #expect(r.status == 0, "\(r.errors)")
        let line = try #require(r.output.split(separator: "\n").last { $0.contains("\"summary\":true") })
        let object = try json(line)
        let labels = try #require(object["labels"] as? [[String: Any]])
        let scores = Dictionary(uniqueKeysWithValues: labels.map { ($0["label"] as! String, $0["score"] as! Double) })
        return (object["model"] as? String, labels[0]["label"] as! String, scores)
    }

    /// `kino model info` names the model type and every label, and the weights fit in 5 MB.
    func expectSmallModel(_ folder: String, type: String, labels: [String]) throws {
        let info = try KinoBinary.run(["model", "info", folder, "--labels", "0"])
        #expect(info.status == 0, "\(info.errors)")
        #expect(info.output.contains("model_type: \(type)\n"))
        for label in labels { #expect(info.output.contains("\t\(label)\n"), "\(label)") }
        let size = try FileManager.default.attributesOfItem(atPath: folder + "/model.safetensors")[.size] as! Int
        #expect(size <= 5 << 20)
    }

    /// `kino model eval` on a committed held-out sample: all `files` read, accuracy ≥ 0.9 (the bar
    /// TRAINING.md states for the whole test split).
    func expectHeldOutAccuracy(_ folder: String, fixture: String, files: Int) throws {
        let data = "\(Repository.root)/Tests/KinoCLITests/Fixtures/\(fixture)"
        let r = try KinoBinary.run(["model", "eval", "--model", folder, "--data", data, "--json"])
        #expect(r.status == 0, "\(r.errors)")
        let object = try json(Substring(r.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(object["files"] as? Int == files)
        let accuracy = try #require(object["val_accuracy"] as? Double)
        #expect(accuracy >= 0.9, "\(r.output)")
    }

    @Test func theSoundModelIsSmallAndNamesItsEightLabels() throws {
        try expectSmallModel(Self.sounds, type: "kino-cct", labels: Self.soundLabels)
    }

    @Test func theSoundModelLabelsHeldOutFiles() throws {
        try expectHeldOutAccuracy(Self.sounds, fixture: "kino-sounds-test", files: 32)
    }

    @Test func theMotionModelIsSmallAndNamesItsNineLabels() throws {
        try expectSmallModel(Self.motion, type: "kino-cct-video", labels: Self.motionLabels)
    }

    /// 36 clips rendered from pictures no training clip used.
    @Test func theMotionModelLabelsHeldOutClips() throws {
        try expectHeldOutAccuracy(Self.motion, fixture: "kino-motion-test", files: 36)
    }

    /// Camera moves made by FFmpeg's crop and zoompan filters on a picture no training clip came
    /// from (a Game of Life field): the label names the camera, not the scene.
    @Test func cameraMovesMadeByFFmpegGetTheirLabels() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kino-moves-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let still = dir + "/still.png"
        func ffmpeg(_ arguments: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["ffmpeg", "-v", "error", "-y"] + arguments
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "ffmpeg \(arguments)")
        }
        try ffmpeg(["-f", "lavfi", "-i", "life=s=640x360:mold=10:ratio=0.5:seed=7:death_color=#202020:life_color=#e0d0a0,gblur=sigma=1",
                    "-vf", "select=eq(n\\,40)", "-frames:v", "1", still])
        // The crop window moving right means the camera pans right: the scene slides left.
        let moves = [
            ("pan-right", "crop=360:360:'40+t*80':0,scale=256:256"),
            ("pan-left", "crop=360:360:'240-t*80':0,scale=256:256"),
            ("tilt-up", "crop=240:240:200:'118-t*55',scale=256:256"),
            ("static", "crop=360:360:100:0,scale=256:256"),
            ("zoom-in", "zoompan=z='1+0.012*on':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=456x256:fps=24,crop=256:256"),
        ]
        for (label, filter) in moves {
            let clip = dir + "/\(label).mp4"
            try ffmpeg(["-loop", "1", "-i", still, "-vf", filter + ",format=yuv420p", "-r", "24", "-frames:v", "48",
                        "-c:v", "libx264", "-crf", "20", clip])
            let r = try KinoBinary.run(["classify", clip, "--json", "--top-k", "3"])
            #expect(r.status == 0, "\(r.errors)")
            let line = try #require(r.output.split(separator: "\n").last { $0.contains("\"summary\":true") })
            let object = try json(line)
            #expect(object["model"] as? String == "kino-motion")
            let top = (object["labels"] as? [[String: Any]])?.first?["label"] as? String
            #expect(top == label, "\(label): \(line)")
        }
    }

    @Test func theBundledSamplesGetTheirLabels() throws {
        let speech = try summary(Repository.sample("speech.wav"))
        #expect(speech.model == "kino-sounds" && speech.top == "speech", "\(speech)")
        // music.flac is a plucked chord that decays: its first window is music; the later ones fall to
        // -44 and -61 dBFS and read as silence (a known limit, models/kino-sounds/TRAINING.md).
        let r = try KinoBinary.run(["classify", Repository.sample("music.flac"), "--json"])
        let first = try json(try #require(r.output.split(separator: "\n").first))
        #expect(first["model"] as? String == "kino-sounds")
        #expect(((first["labels"] as? [[String: Any]])?.first?["label"] as? String) == "music", "\(r.output)")
        let clip = try summary(Repository.sample("clip720.mp4"))
        #expect(clip.top == "speech", "\(clip)")
    }

    @Test func silenceIsNeverConfidentSpeech() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kino-silence-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 3 s of digital zero, then the same with hiss at about -70 dBFS.
        let zero = dir + "/zero.wav", hiss = dir + "/hiss.wav"
        for (path, amplitude) in [(zero, 0.0), (hiss, 0.0003)] {
            var state: UInt64 = 42
            var samples = [Int16]()
            for _ in 0..<48000 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u = Double(state >> 11) / Double(1 << 53) - 0.5
                samples.append(Int16((u * 2 * amplitude * 32767 * 1.7).rounded()))
            }
            try wav(samples, rate: 16000).write(to: URL(fileURLWithPath: path))
            let s = try summary(path)
            #expect(s.top == "silence", "\(path): \(s)")
            #expect((s.scores["speech"] ?? 0) < 0.5, "\(path): \(s)")
        }
    }

    func wav(_ samples: [Int16], rate: Int) -> Data {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + samples.count * 2)); d.append(contentsOf: Array("WAVEfmt ".utf8))
        u32(16); u16(1); u16(1); u32(UInt32(rate)); u32(UInt32(rate * 2)); u16(2); u16(16)
        d.append(contentsOf: Array("data".utf8)); u32(UInt32(samples.count * 2))
        for s in samples { u16(UInt16(bitPattern: s)) }
        return d
    }
}
