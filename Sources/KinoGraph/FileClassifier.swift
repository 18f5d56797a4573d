import Foundation
import KinoDSP
import KinoMedia
import KinoModels

/// Labels one file with one classifier, window by window, through the stages the pipelines run:
/// decode → `sample` (clips, or frames for ViT) or `spectrogram` (AST windows) → the classifier
/// stage. `kino classify`, the `vivit`/`ast` stages of `kino process` and `kino watch` therefore
/// share one window plan, one preprocessing and one way of scoring.
public struct FileClassifier: Sendable {
    /// How windows are cut and scored.
    public struct Options: Sendable {
        /// Labels per window and in the summary.
        public var topK = 5
        /// Windows per forward pass.
        public var batch = 1
        /// Clip models: frames between the frames of a clip (default: the model's own sampling,
        /// consecutive frames for VideoMAE and TimeSformer as transformers' pipeline takes them,
        /// every 2nd frame for ViViT and Kino's models).
        public var frameStride: Int?
        /// Clip models: frames between window starts (default: one window span, so windows tile the file).
        public var clipStride: Int?
        /// Fbank models: seconds between window starts (default: one window).
        public var hopSeconds: Double?
        /// ViT: frames classified per second.
        public var fps = 1.0
        /// ViViT pixel scaling.
        public var pixelRange = ViViTPixelRange.original
        /// Threads the model may use at once.
        public var slots = ProcessInfo.processInfo.activeProcessorCount

        public init() {}
    }

    /// One classified window: its time range, the frames it was made of (video) and top labels.
    public struct Window: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var frames: [Int]?
        public var labels: [LabelScore]
    }

    /// How a file's classification ended.
    public struct Result: Sendable {
        /// Windows classified.
        public var windows: Int
        /// The mean of every window's probabilities, top-k.
        public var summary: [LabelScore]
        /// The main labels over the file (as `summary.json` lists them).
        public var main: FileLabels?
        /// What the decoder met; a damaged stream means the labels cover only what could be read.
        public var health: DecodeHealth?
    }

    public let model: any KinoModel
    /// The folder the model came from (ViT reads its `preprocessor_config.json`).
    public let directory: String?
    /// What events call the model (a shipped model's name); default its architecture.
    public let name: String?
    public var options: Options

    public init(model: any KinoModel, directory: String?, name: String? = nil, options: Options = Options()) {
        self.model = model
        self.directory = directory
        self.name = name
        self.options = options
    }

    /// Classifies `file`, calling `onWindow` as each window is scored (in media order).
    /// - Throws: ``GraphError`` for a model that cannot take the file's stream, or the first
    ///   stage failure (naming the file) when decoding or classifying fails.
    public func classify(_ file: String, onWindow: @escaping @Sendable (Window) -> Void) throws -> Result {
        let collector = EventCallbackSink()
        let graph: Graph
        do {
            graph = try makeGraph(file, collector: collector)
        } catch {
            throw ClassifyError(file: file, message: error.localizedDescription)
        }
        let topK = options.topK
        collector.onEvent = { event in
            guard event.payload["summary"] == nil, event.payload["status"] == nil, let window = Self.window(event, topK: topK) else { return }
            onWindow(window)
        }
        let report = GraphRunner(graph: graph, pool: ComputePool(slots: max(1, options.slots))).run(cancel: CancelToken())
        return try result(of: report, file: file, collector: collector)
    }

    /// decode → sample or spectrogram → the classifier stage → `collector`.
    private func makeGraph(_ file: String, collector: EventCallbackSink) throws -> Graph {
        var builder = GraphBuilder(name: "classify")
        let classifier = "classify"
        if let fbank = model as? any FbankClassifier {
            var features = ASTFeatureExtractor.Options()
            features.maxLength = fbank.windowFrames
            features.numMelBins = fbank.melBins
            let hop = options.hopSeconds.map { max(1, Int(($0 * 100).rounded())) } ?? features.maxLength
            builder.add("audio", AudioDecodeSource(path: file, sampleRate: 16000, mono: true))
            builder.add("fbank", try SpectrogramStage(kind: .ast, stepFrames: hop, melBins: fbank.melBins,
                                                      extractor: try ASTFeatureExtractor(options: features)), inputs: ["audio"])
            builder.add(classifier, AudioClassifierStage(id: classifier, model: model, name: name, topK: options.topK,
                                                             batch: options.batch), inputs: ["fbank"])
        } else if model is ViTForImageClassification {
            let size = model.sampleShape.last!
            let configuration = try ImageProcessorConfiguration.load(directory: directory ?? "", imageSize: size)
            builder.add("video", VideoDecodeSource(path: file, options: VideoDecodeOptions(layout: .rgb24)))
            builder.add("frames", SampleStage(mode: .fps(options.fps)), inputs: ["video"])
            builder.add(classifier, ImageClassifierStage(id: classifier, model: model, configuration: configuration, name: name,
                                                             topK: options.topK, batch: options.batch), inputs: ["frames"])
        } else if model.sampleShape.count == 4 {
            let stride = options.frameStride ?? (model as? any VideoMAEProcessedClassifier)?.frameSampling.stride ?? 2
            let spec = ClipSpec(length: model.sampleShape[0], frameStride: stride, clipStride: options.clipStride,
                                policy: .repeatLast)
            let preprocessor = try VideoPreprocessor.forModel(model, directory: directory ?? "", range: options.pixelRange)
            builder.add("video", VideoDecodeSource(path: file, options: VideoDecodeOptions(layout: .rgb24)))
            builder.add("clips", SampleStage(mode: .clips(spec)), inputs: ["video"])
            builder.add(classifier, VideoClassifierStage(id: classifier, model: model, name: name, topK: options.topK,
                                                         batch: options.batch, range: options.pixelRange, preprocessor: preprocessor),
                        inputs: ["clips"])
        } else {
            throw GraphError.invalidInput(stage: classifier, message: "\(name ?? model.architecture) is not a classifier Kino can run on files (a backbone without a classification head?)")
        }
        builder.add("out", collector, inputs: [classifier])
        return try builder.build()
    }

    /// The finished run's windows, summary, main labels and decode health.
    private func result(of report: RunReport, file: String, collector: EventCallbackSink) throws -> Result {
        if let failure = report.failure {
            throw ClassifyError(file: file, message: failure.message)
        }
        let events = collector.events
        let windows = events.filter { $0.payload["summary"] == nil && $0.payload["status"] == nil }
        let summaryEvent = events.last { $0.payload["summary"] != nil }
        let summary = (summaryEvent ?? windows.first).flatMap { Self.window($0, topK: options.topK)?.labels } ?? []
        var health: DecodeHealth?
        for stream in report.streams {
            if health == nil || stream.health.isDamaged { health = stream.health }
        }
        return Result(windows: windows.count, summary: summary, main: report.labels.first, health: health)
    }

    static func window(_ event: Event, topK: Int) -> Window? {
        guard case .array(let entries)? = event.payload["labels"] else { return nil }
        let labels = entries.compactMap { entry -> LabelScore? in
            guard case .object(let o) = entry, case .string(let label)? = o["label"], case .number(let score)? = o["score"] else { return nil }
            return LabelScore(label: label, score: Float(score))
        }
        var frames: [Int]?
        if case .array(let list)? = event.payload["frames"] {
            frames = list.compactMap { if case .number(let n) = $0 { return Int(n) } else { return nil } }
        }
        return Window(start: event.start, end: event.end, frames: frames, labels: Array(labels.prefix(topK)))
    }
}

/// A classification that failed, naming the file.
public struct ClassifyError: Error, LocalizedError, Sendable {
    public var file: String
    public var message: String
    public var errorDescription: String? { "\(file): \(message)" }
}

/// Hands every event to a callback as it arrives, and keeps them.
final class EventCallbackSink: ProcessingStage, @unchecked Sendable {
    var inputTypes: [PortType] { [.event] }
    var outputType: PortType? { nil }
    var onEvent: (@Sendable (Event) -> Void)?
    private let store = Locked<[Event]>([])

    var events: [Event] { store.current }

    func receive(info: SourceInfo, input: Int, output: StageOutput) throws {}

    func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard case .event(let event) = packet.payload else { return }
        store.withLock { $0.append(event) }
        onEvent?(event)
    }
}
