import Foundation

/// Writes events, one JSON object per line: `stage`, `start`, `end`, `payload`.
///
/// Lines go to a hidden temporary file beside `path`, renamed to `path` when the run ends
/// normally, so a reader never sees half a file under the final name. When the run is
/// cancelled or another stage fails, the lines written so far are kept as
/// `path.incomplete` and reported with `complete: false`.
public final class JSONLSink: ProcessingStage {
    public let path: String
    private let state = Locked<(handle: FileHandle?, pending: Data)>((nil, Data()))
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Event streams written into the one file, in arrival order.
    public let ports: Int

    public init(path: String, ports: Int = 1) {
        self.path = path
        self.ports = max(1, ports)
    }

    public var inputTypes: [PortType] { Array(repeating: .event, count: ports) }
    public var outputType: PortType? { nil }

    /// Where lines are written until the run ends.
    public var temporaryPath: String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial").path
    }

    public func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .event(let event) = packet.payload else { return }
        var line = try encoder.encode(event)
        line.append(0x0A)
        try state.withLock { s in
            try open(&s)
            s.pending.append(line)
            if s.pending.count >= 1 << 16 { try flush(&s) }
        }
    }

    public func finish(output: StageOutput) throws {
        let finalPath = output.isCancelled ? path + ".incomplete" : path
        try state.withLock { s in
            try open(&s)
            try flush(&s)
            try s.handle?.close()
            s.handle = nil
        }
        let files = FileManager.default
        if files.fileExists(atPath: finalPath) { try files.removeItem(atPath: finalPath) }
        try files.moveItem(atPath: temporaryPath, toPath: finalPath)
        output.recordFile(finalPath, complete: !output.isCancelled)
    }

    private func open(_ s: inout (handle: FileHandle?, pending: Data)) throws {
        guard s.handle == nil else { return }
        let files = FileManager.default
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try files.createDirectory(at: directory, withIntermediateDirectories: true)
        guard files.createFile(atPath: temporaryPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporaryPath])
        }
        s.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporaryPath))
    }

    private func flush(_ s: inout (handle: FileHandle?, pending: Data)) throws {
        guard !s.pending.isEmpty, let handle = s.handle else { return }
        try handle.write(contentsOf: s.pending)
        s.pending = Data()
    }
}
