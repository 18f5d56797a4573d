import Foundation
import KinoGraph
import KinoMedia

// graph-bench [--packets N] [--repeats R]
// Graph overhead: N small event packets through source → 5 pass-through stages → counting sink,
// default edge capacities, each stage on its own serial queue. Prints packets per second (median).

let args = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
}
let count = option("--packets", 200_000)
let repeats = option("--repeats", 5)

final class Ticks: SourceStage {
    let inputTypes: [PortType] = []
    let outputType: PortType? = .event
    let count: Int
    init(_ count: Int) { self.count = count }
    func produce(into output: StageOutput) throws {
        for i in 0..<count where !output.isCancelled {
            let t = Double(i) / 1000
            output.emit(.event(Event(stage: "ticks", start: t, end: t, payload: ["i": .number(Double(i))])))
        }
    }
}

final class PassThrough: ProcessingStage {
    let inputTypes: [PortType] = [.event]
    let outputType: PortType? = .event
    func process(_ packet: Packet, input: Int, output: StageOutput) throws { output.emit(packet) }
}

final class Count: ProcessingStage, @unchecked Sendable {
    let inputTypes: [PortType] = [.event]
    let outputType: PortType? = nil
    private let lock = NSLock()
    private var n = 0
    func process(_ packet: Packet, input: Int, output: StageOutput) throws { lock.lock(); n += 1; lock.unlock() }
    var total: Int { lock.lock(); defer { lock.unlock() }; return n }
}

var rates: [Double] = []
for _ in 0..<repeats {
    var builder = GraphBuilder(name: "overhead")
    builder.add("source", Ticks(count))
    var previous = "source"
    for k in 1...5 {
        builder.add("pass\(k)", PassThrough(), inputs: [previous])
        previous = "pass\(k)"
    }
    let sink = Count()
    builder.add("sink", sink, inputs: [previous])
    let start = DispatchTime.now().uptimeNanoseconds
    let report = GraphRunner(graph: try builder.build()).run()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(report.status == .completed && sink.total == count, "lost packets: \(sink.total) of \(count)")
    rates.append(Double(count) / seconds)
}
rates.sort()
print(String(format: "graph overhead: %d packets through 5 pass-through stages: median %.0f packets/s (min %.0f, max %.0f) over %d runs; per packet per stage %.2f µs",
             count, rates[rates.count / 2], rates.first!, rates.last!, repeats, 1e6 / rates[rates.count / 2] / 6))
