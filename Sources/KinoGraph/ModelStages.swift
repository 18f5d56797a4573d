import Foundation
import KinoDSP
import KinoMedia
import KinoModels
import KinoTensor

/// What the classifier stages share: batching, optional averaging over consecutive
/// inputs, a summary over the whole run, and an explicit "off" event when no model is given.
///
/// Without a model folder nothing is classified: the stage emits one event saying it is off and
/// why, and never labels from random weights.
final class ClassifierCore: @unchecked Sendable {
    /// One input waiting for its forward pass: model input and its time range.
    struct Item {
        var input: Tensor
        var start: Double
        var end: Double
        /// The frame indices it was made of (clips and frames), for the event.
        var frames: [Int]? = nil
    }

    let id: String
    let model: (any KinoModel)?
    /// What events and the summary call the model: its folder's name, else its architecture.
    let name: String?
    /// Why the stage is off, when it has no model.
    let offReason: String
    let topK: Int
    let batch: Int
    let average: Int
    let summary: Bool
    private let state = Locked<(pending: [Item], window: [([Float], Double, Double, [Int]?)], all: [([Float], Double, Double)],
                                 range: (Double, Double)?, saidOff: Bool)>(([], [], [], nil, false))

    init(id: String, model: (any KinoModel)?, name: String?, offReason: String?, topK: Int, batch: Int, average: Int, summary: Bool) {
        self.id = id
        self.model = model
        self.name = name ?? model?.architecture
        self.offReason = offReason ?? "no model folder given (option model); nothing was classified"
        self.topK = topK
        self.batch = batch
        self.average = average
        self.summary = summary
    }

    /// Queues one input and runs a forward pass once `batch` are waiting.
    func enqueue(_ item: Item, output: StageOutput) throws {
        let ready: [Item]? = state.withLock { s in
            s.pending.append(item)
            guard s.pending.count >= batch else { return nil }
            defer { s.pending = [] }
            return s.pending
        }
        if let ready { try run(ready, output: output) }
    }

    /// Runs what is left, flushes a partial average, emits the summary (or the "off" event).
    func finishClassifying(output: StageOutput) throws {
        guard let model else {
            output.emit(.event(Event(stage: id, start: 0, end: 0, payload: [
                "status": "off", "reason": .string(offReason),
            ])))
            output.recordLabels(FileLabels(stage: id, model: nil, ran: false, reason: offReason))
            return
        }
        let rest = state.withLock { s -> [Item] in defer { s.pending = [] }; return s.pending }
        if !rest.isEmpty { try run(rest, output: output) }
        let (window, all, range) = state.withLock { s in
            defer { s.window = [] }
            return (s.window, s.all, s.range)
        }
        if !window.isEmpty { emitAverage(window, model: model, output: output) }
        let modelName = name ?? model.architecture
        if summary, let range, all.count > 1 {
            output.emit(.event(Event(stage: id, start: range.0, end: range.1, payload: [
                "summary": true, "inputs": .number(Double(all.count)), "model": .string(modelName),
                "architecture": .string(model.architecture),
                "labels": Self.json(model.topLabels(meanProbabilities(all.map(\.0)), k: topK)),
            ])))
        }
        let main = FileLabels.main(of: all.map { (scores: $0.0, start: $0.1, end: $0.2) }, names: model.labels,
                                   multiLabel: model.scoring == .sigmoid)
        output.recordLabels(FileLabels(stage: id, model: modelName, ran: true, windows: all.count, labels: main))
    }

    private func run(_ items: [Item], output: StageOutput) throws {
        guard let model else { return }
        let input = Tensor.concatenate(items.map(\.input)).reshaped([items.count] + model.sampleShape)
        guard let logits = try model(input).logits else {
            throw GraphError.invalidInput(stage: id, message: "\(name ?? model.architecture) is a backbone without a classification head: nothing to label")
        }
        for (item, probabilities) in zip(items, model.probabilities(logits)) {
            let averaged: [([Float], Double, Double, [Int]?)]? = state.withLock { s in
                s.all.append((probabilities, item.start, item.end))
                s.range = (min(s.range?.0 ?? item.start, item.start), max(s.range?.1 ?? item.end, item.end))
                s.window.append((probabilities, item.start, item.end, item.frames))
                guard s.window.count >= average else { return nil }
                defer { s.window = [] }
                return s.window
            }
            if let averaged { emitAverage(averaged, model: model, output: output) }
        }
    }

    private func emitAverage(_ window: [([Float], Double, Double, [Int]?)], model: any KinoModel, output: StageOutput) {
        let start = window.map(\.1).min()!, end = window.map(\.2).max()!
        var payload: [String: JSONValue] = [
            "model": .string(name ?? model.architecture), "architecture": .string(model.architecture),
            "scoring": .string(model.scoring.rawValue),
            "labels": Self.json(model.topLabels(meanProbabilities(window.map(\.0)), k: topK)),
        ]
        if window.count > 1 { payload["averaged"] = .number(Double(window.count)) }
        if window.count == 1, let frames = window[0].3 { payload["frames"] = .array(frames.map { .number(Double($0)) }) }
        output.emit(.event(Event(stage: id, start: start, end: end, payload: payload)))
    }

    static func json(_ labels: [LabelScore]) -> JSONValue {
        .array(labels.map { .object(["label": .string($0.label), "score": .number(Double($0.score))]) })
    }
}

/// What the three classifier stages share beyond ``ClassifierCore``: an event output, heavy while
/// a model is loaded, and a finish that flushes the core.
protocol ClassifierStage: ProcessingStage {
    var core: ClassifierCore { get }
}

extension ClassifierStage {

    /// A decoded frame as the preprocessors take it; other layouts are refused naming the stage.
    func image(_ frame: VideoFrame) throws -> RGB8Image {
        guard frame.layout == .rgb24 else {
            throw GraphError.invalidInput(stage: core.id, message: "\(frame.layout.rawValue) frames; the model needs rgb24 (decode's layout)")
        }
        return RGB8Image(width: frame.width, height: frame.height, pixels: frame.bytes)
    }
}

/// Classifies clips from `sample` (mode `clips`) with a ViViT or ViViT factorised-encoder
/// checkpoint; one event per clip (or per `average` clips) with the top-k labels.
public final class VideoClassifierStage: ClassifierStage, @unchecked Sendable {
    let core: ClassifierCore
    let preprocessor: VideoPreprocessor?

    /// - Parameters:
    ///   - model: a clip model (``VivitForVideoClassification``, ``ViViTFactorisedEncoder``), or
    ///     `nil` for a stage that is off.
    ///   - range: pixel scaling (original [−1, 1] or HF's [−3, 1]).
    ///   - name: what events call the model (default: its architecture).
    ///   - offReason: what the "off" event says when `model` is `nil`.
    ///   - preprocessor: how clips become pixels (default: ViViT's, with `range`); VideoMAE and
    ///     TimeSformer take their folder's (``VideoPreprocessor/forModel(_:directory:range:)``).
    public init(id: String, model: (any KinoModel)?, name: String? = nil, offReason: String? = nil, topK: Int = 5,
                batch: Int = 1, average: Int = 1, summary: Bool = true, range: ViViTPixelRange = .original,
                preprocessor: VideoPreprocessor? = nil) {
        self.preprocessor = preprocessor ?? model.map { VideoPreprocessor(cropSize: $0.sampleShape.last!, range: range) }
        core = ClassifierCore(id: id, model: model, name: name, offReason: offReason, topK: topK, batch: batch,
                              average: average, summary: summary)
    }

    public var inputTypes: [PortType] { [.clip] }

    public var outputType: PortType? { .event }
    public var isHeavy: Bool { core.model != nil }
    public func finish(output: StageOutput) throws { try core.finishClassifying(output: output) }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard let model = core.model, let preprocessor, case .clip(let clip) = packet.payload else { return }
        let id = core.id
        let frames = model.sampleShape[0]
        guard clip.frames.count == frames else {
            throw GraphError.invalidInput(
                stage: id, message: "clips of \(clip.frames.count) frames; the model takes \(frames) (set sample's clip_length: \(frames))")
        }
        let images = try clip.frames.map(image)
        try core.enqueue(.init(input: preprocessor.clip(images), start: clip.startSeconds, end: clip.endSeconds,
                               frames: clip.frames.map(\.index)),
                         output: output)
    }

}

/// Classifies `spectrogram` blocks (mode `ast`) with an AST checkpoint; sigmoid scores for
/// AudioSet's multi-label head.
public final class AudioClassifierStage: ClassifierStage, @unchecked Sendable {
    let core: ClassifierCore

    public init(id: String, model: (any KinoModel)?, name: String? = nil, offReason: String? = nil, topK: Int = 5,
                batch: Int = 1, average: Int = 1, summary: Bool = true) {
        core = ClassifierCore(id: id, model: model, name: name, offReason: offReason, topK: topK, batch: batch,
                              average: average, summary: summary)
    }

    public var inputTypes: [PortType] { [.spectrogram] }

    public var outputType: PortType? { .event }
    public var isHeavy: Bool { core.model != nil }
    public func finish(output: StageOutput) throws { try core.finishClassifying(output: output) }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard let model = core.model, case .spectrogram(let block) = packet.payload else { return }
        let id = core.id
        let features = block.features
        guard block.kind == .ast, [features.frames, features.bins] == model.sampleShape else {
            throw GraphError.invalidInput(
                stage: id, message: "\(block.kind.rawValue) blocks of [\(features.frames), \(features.bins)]; the model takes ast windows of \(model.sampleShape)")
        }
        // A window without one fbank frame of sound (a file shorter than 25 ms) is all padding:
        // classifying it would label nothing with confidence.
        guard block.validFrames > 0 else { return }
        let tensor = Tensor(shape: [features.frames, features.bins], values: features.values)
        try core.enqueue(.init(input: tensor, start: block.startSeconds, end: block.endSeconds), output: output)
    }

}

/// Classifies single frames (from `sample`, mode `fps`) with a ViT checkpoint, preprocessed as
/// its folder's `preprocessor_config.json` says; one event per frame (or per `average` frames).
public final class ImageClassifierStage: ClassifierStage, @unchecked Sendable {
    let core: ClassifierCore
    let preprocessor: ImagePreprocessor?

    public init(id: String, model: (any KinoModel)?, configuration: ImageProcessorConfiguration?, name: String? = nil,
                offReason: String? = nil, topK: Int = 5, batch: Int = 1, average: Int = 1, summary: Bool = true) {
        preprocessor = configuration.map { ImagePreprocessor(configuration: $0) }
        core = ClassifierCore(id: id, model: model, name: name, offReason: offReason, topK: topK, batch: batch,
                              average: average, summary: summary)
    }

    public var inputTypes: [PortType] { [.video] }

    public var outputType: PortType? { .event }
    public var isHeavy: Bool { core.model != nil }
    public func finish(output: StageOutput) throws { try core.finishClassifying(output: output) }

    public func process(_ packet: Packet, input: Int, output: StageOutput) throws {
        guard let model = core.model, let preprocessor, case .videoFrame(let frame) = packet.payload else { return }
        let pixels = preprocessor.pixelValues([try image(frame)])
        try core.enqueue(.init(input: pixels.reshaped(model.sampleShape), start: frame.seconds, end: frame.seconds + max(0, frame.duration),
                               frames: [frame.index]), output: output)
    }

}
