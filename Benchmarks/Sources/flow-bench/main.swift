// flow-bench: a line-oriented timing server for Kino's DIS optical flow.
//
// Benchmarks/flow_bench.py starts it once (release build) and interleaves its requests with
// OpenCV calls in the same run. One request per stdin line, one JSON reply per stdout line:
//   load NAME W H I0.u8 I1.u8                 read a grey 8-bit pair
//   time NAME PRESET THREADS N [key=value…]   N two-frame calls → {"ms":[…]}
//   video NAME PRESET THREADS N [key=value…]  N video pushes alternating the pair (one new pyramid per call)
//   flow NAME PRESET THREADS OUT.f32 [key=value…]  write the flow (u,v interleaved float32)
//   refine NAME PRESET IN.f32 OUT.f32 [key=value…]  variational refinement alone on a given flow
//   scale NAME PRESET N [key=value…]         N rounds alternating a 1-thread and a 2-thread call
//                                            → {"one":[…],"two":[…]} (same load for both)
//   scale-video NAME PRESET N [key=value…]   the same with video pushes (one new pyramid per call)
// Knobs: finest, stride, gd, vr, sor, meannorm, prop, stripes (the DISOptions names they map to are below).
import Foundation
import KinoDSP

var pairs: [String: (GrayImage, GrayImage)] = [:]
var sessions: [String: FlowSession] = [:]

func options(_ preset: String, threads: Int, _ knobs: ArraySlice<String>) throws -> DISOptions {
    guard let p = DISOptions.Preset(rawValue: preset) else { throw FlowError.badOption("preset \(preset)") }
    var o = DISOptions.preset(p)
    o.threads = threads
    for knob in knobs {
        let kv = knob.split(separator: "=", maxSplits: 1).map(String.init)
        guard kv.count == 2, let n = Int(kv[1]) else { throw FlowError.badOption(knob) }
        switch kv[0] {
        case "finest": o.finestScale = n
        case "stride": o.patchStride = n
        case "gd": o.gradientDescentIterations = n
        case "vr": o.variationalIterations = n
        case "sor": o.sorIterations = n
        case "meannorm": o.meanNormalization = n != 0
        case "prop": o.spatialPropagation = n != 0
        case "stripes": o.searchStripes = n
        case "prior": o.temporalPrior = n != 0
        default: throw FlowError.badOption(knob)
        }
    }
    return o
}

@MainActor func session(_ name: String, _ o: DISOptions) throws -> FlowSession {
    let (a, _) = pairs[name]!
    let key = "\(name)|\(o)"
    if let s = sessions[key] { return s }
    let s = try FlowSession(width: a.width, height: a.height, options: o)
    sessions[key] = s
    return s
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func reply(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

while let line = readLine() {
    let f = line.split(separator: " ").map(String.init)
    guard let cmd = f.first else { continue }
    do {
        switch cmd {
        case "load":
            let w = Int(f[2])!, h = Int(f[3])!
            let a = try GrayImage(width: w, height: h, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: f[4]))))
            let b = try GrayImage(width: w, height: h, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: f[5]))))
            pairs[f[1]] = (a, b)
            reply(["ok": true])
        case "time", "video":
            let o = try options(f[2], threads: Int(f[3])!, f[5...])
            let s = try session(f[1], o)
            let (a, b) = pairs[f[1]]!
            var out = FlowField(width: a.width, height: a.height)
            var ms = [Double]()
            if cmd == "time" {
                try s.flow(from: a, to: b, into: &out)   // warm-up
                for _ in 0..<Int(f[4])! {
                    let t0 = now()
                    try s.flow(from: a, to: b, into: &out)
                    ms.append(Double(now() - t0) / 1e6)
                }
            } else {
                s.reset()
                try s.push(a, into: &out)
                for i in 0..<Int(f[4])! {
                    let t0 = now()
                    try s.push(i % 2 == 0 ? b : a, into: &out)
                    ms.append(Double(now() - t0) / 1e6)
                }
            }
            reply(["ms": ms])
        case "refine":
            let o = try options(f[2], threads: 1, f[5...])
            let (a, b) = pairs[f[1]]!
            let raw = try Data(contentsOf: URL(fileURLWithPath: f[3]))
            var flow = try FlowField(width: a.width, height: a.height, uv: raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
            try flow.refine(from: a, to: b, options: o)
            try flow.uv.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: f[4]))
            reply(["ok": true])
        case "scale", "scale-video":
            let (a, b) = pairs[f[1]]!
            let one = try session(f[1], try options(f[2], threads: 1, f[4...]))
            let two = try session(f[1], try options(f[2], threads: 2, f[4...]))
            var out = FlowField(width: a.width, height: a.height)
            let video = cmd == "scale-video"
            if video {
                one.reset(); two.reset()
                try one.push(a, into: &out); try two.push(a, into: &out)
            }
            var t1 = [Double](), t2 = [Double]()
            for i in 0..<(Int(f[3])! + 1) {   // the first round warms up and is not kept
                let next = i % 2 == 0 ? b : a
                for (s, times) in [(one, 1), (two, 2)] {
                    let t0 = now()
                    if video { try s.push(next, into: &out) } else { try s.flow(from: a, to: b, into: &out) }
                    let ms = Double(now() - t0) / 1e6
                    if i > 0 { if times == 1 { t1.append(ms) } else { t2.append(ms) } }
                }
            }
            reply(["one": t1, "two": t2])
        case "flow":
            let o = try options(f[2], threads: Int(f[3])!, f[5...])
            let (a, b) = pairs[f[1]]!
            let out = try session(f[1], o).flow(from: a, to: b)
            try out.uv.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: f[4]))
            reply(["ok": true])
        default:
            reply(["error": "unknown command \(cmd)"])
        }
    } catch {
        reply(["error": "\(error)"])
    }
}
