import ArgumentParser
import Foundation
import KinoFiles
import KinoModels
import KinoOptim
import KinoTensor
import KinoTrain

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune AST, ViT or ViViT on a folder of labelled files: full, linear probe, BitFit or an adapter.",
        discussion: """
            DATA has one subfolder per class, or a metadata.csv / metadata.jsonl with file_name and label columns \
            (Hugging Face audiofolder/videofolder layouts); several labels on a file (comma-separated in the CSV, \
            an array in JSONL) make a multi-label run: binary cross-entropy, validation by mean average precision. \
            AST takes each file's first fbank window (16 kHz), ViT its middle frame, ViViT its first clip. Inputs \
            are computed once and cached in RUN/cache/; when only the head (or, in the factorised encoder, only \
            the temporal half) trains, the frozen part's output is cached too and each epoch runs only the rest. \
            Writes RUN/adapter/ (adapter_config.json + adapter_model.safetensors; the best \
            epoch by validation accuracy when there is a validation set), RUN/train-log.jsonl (one line per step), \
            RUN/metrics.json (per epoch), and resumable checkpoints RUN/checkpoint-*/ (--resume RUN with the same \
            options continues). --method full writes RUN/model/, a complete model folder. Ctrl-C finishes the step, \
            checkpoints and exits 130.
            """)

    @Option(help: "The base model folder.") var model: String
    @Option(help: "Training data: one subfolder per class, or a metadata.csv / metadata.jsonl.") var data: String
    @Option(help: "Validation data in either layout.") var val: String?
    @Option(help: "Hold out this fraction of DATA for validation (every k-th file of each class).") var valSplit: Double?
    @Option(help: "full, linear, bitfit, lora, ia3, houlsby, pfeiffer, conformer, prompt or prefix.") var method: String
    @Option(help: "LoRA rank.") var rank = 8
    @Option(help: "LoRA alpha (scale alpha/r).") var alpha: Float = 16
    @Flag(help: "rsLoRA scale alpha/√r.") var rslora = false
    @Option(help: "LoRA/IA³ layers: query,key,value,attention_output,intermediate,output (or q_proj…, all).") var targets: String?
    @Option(help: "Dropout on the LoRA input.") var loraDropout: Float = 0
    @Option(help: "Bottleneck/Conformer reduction rate: size round(D/RR).") var reduction = 96
    @Option(help: "Bottleneck/Conformer placement: parallel or sequential.") var placement = "parallel"
    @Flag(help: "Add the adapter input to the stream (PETL_AST's apply_residual).") var residual = false
    @Option(help: "Conformer depthwise kernel size.") var kernelSize = 31
    @Option(help: "Prompt or prefix tokens (default 25 prompts, 24 prefix).") var tokens: Int?
    @Flag(help: "Prompts before the first block only.") var shallow = false
    @Flag(help: "Factorised encoder: keep the spatial encoder frozen, without adapters (its output is then cached).")
    var freezeSpatial = false
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Optimiser steps (instead of --epochs).") var steps: Int?
    @Option(help: "Samples per step.") var batchSize = 8
    @Option(help: "Learning rate (default per method, PETL_AST's).") var lr: Float?
    @Option(help: "adamw or sgd.") var optimizer = "adamw"
    @Option(help: "Weight decay.") var weightDecay: Float = 0.1
    @Option(help: "constant or cosine.") var schedule = "cosine"
    @Option(help: "Linear warm-up steps.") var warmup = 0
    @Option(help: "Seed of initialisation, data order, dropout and augmentation.") var seed: UInt64 = 0
    @Flag(help: "Files in byte-wise order of their relative paths, batch after batch.") var noShuffle = false
    @Flag(help: "No SpecAugment (audio) or random crops and flips (images, video).") var noAugment = false
    @Flag(help: "Images and clips: crop but never mirror (for labels that name left or right, such as camera pans).")
    var noFlip = false
    @Option(help: ArgumentHelp("Clips and images: also mirror left-right half the time, swapping these labels (e.g. pan-left=pan-right; \"\" swaps none). Replaces the plain random flip.", valueName: "A=B,…"))
    var mirrorSwaps: String?
    @Option(help: ArgumentHelp("Clips and images: also turn upside down half the time, swapping these labels (e.g. tilt-up=tilt-down).", valueName: "A=B,…"))
    var flipSwaps: String?
    @Option(help: ArgumentHelp("Clips: also play backwards half the time, swapping these labels (e.g. pan-left=pan-right,tilt-up=tilt-down,zoom-in=zoom-out).", valueName: "A=B,…"))
    var reverseSwaps: String?
    @Flag(help: "Run the frozen part of the model every step (with augmentation) instead of caching its output.")
    var noFeatureCache = false
    @Option(help: "Stop when the validation metric (accuracy, or mAP for multi-label) has not improved for this many epochs.")
    var earlyStop: Int?
    @Option(help: "Steps between checkpoints.") var checkpointEvery = 200
    @Option(help: "Worker threads for gradient shards.") var threads = 2
    @Option(help: "Adapter file naming: v5 (transformers ≥ 5) or legacy (≤ 4.x).") var naming = "v5"
    @Flag(help: "Continue the run in -o from its newest checkpoint (same options).") var resume = false
    @Option(name: .shortAndLong, help: "The run folder.") var output: String
    @Option(help: "Write the initial trainable weights and the training inputs (in order) to this safetensors file, for a side-by-side run in PyTorch (tools/compare-train-steps.py).")
    var dumpInitial: String?

    func run() throws {
        BLAS.useSingleThread()
        let trap = SignalTrap()
        do {
            try train(trap)
        } catch let error as ExitCode {
            throw error
        } catch {
            printError(error)
            throw ExitCode(1)
        }
        if trap.caught != nil { throw ExitCode(130) }
    }

    func spec() throws -> AdapterSpec {
        guard let m = AdapterMethod(rawValue: method) else {
            throw TrainDataError("--method \(method): unknown (known: \(AdapterMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var s = AdapterSpec(method: m)
        s.rank = rank
        s.alpha = alpha
        s.rankStabilised = rslora
        s.dropout = loraDropout
        if let targets { s.targets = try LinearTarget.parse(targets) }
        s.reduction = reduction
        guard let mode = AdapterPlacement.Mode(rawValue: placement) else { throw TrainDataError("--placement must be parallel or sequential") }
        s.placement = AdapterPlacement(mode: mode, residual: residual)
        s.kernelSize = kernelSize
        if let tokens { s.tokens = tokens }
        s.deep = !shallow
        if freezeSpatial { s.frozenEncoders = ["spatial."] }
        try s.validate()
        return s
    }

    /// PETL_AST's learning rates per method.
    func learningRate(_ m: AdapterMethod) -> Float {
        lr ?? [.full: 5e-5, .linear: 1e-3, .prompt: 1e-2, .prefix: 1e-2][m] ?? 5e-3
    }

    func train(_ trap: SignalTrap) throws {
        let spec = try spec()
        guard let fileNaming = AdapterNaming(rawValue: naming) else { throw TrainDataError("--naming must be v5 or legacy") }
        guard (epochs == nil) != (steps == nil) else { throw TrainDataError("give exactly one of --epochs and --steps") }
        guard batchSize >= 1, (epochs ?? 1) >= 1, (steps ?? 1) >= 1 else { throw TrainDataError("--batch-size, --epochs and --steps must be positive") }
        if val != nil && valSplit != nil { throw TrainDataError("give --val or --val-split, not both") }
        let fm = FileManager.default
        if !resume, fm.fileExists(atPath: output + "/adapter") || !Trainer<ViTModel>.checkpoints(in: output).isEmpty {
            throw TrainDataError("\(output) already holds a run; use --resume to continue it or choose another -o")
        }
        let base = try ModelRegistry.load(directory: model)
        var folder = try LabelledSet.load(data)
        var valFiles: [(path: String, labels: [Int])] = []
        var valRoot = data
        if let val {
            let v = try LabelledSet.load(val, labels: folder.labels)
            if v.multiLabel && !folder.multiLabel {
                throw TrainDataError("\(val): files with several labels, but the training set \(data) has one label per file")
            }
            valFiles = v.files
            valRoot = val
        } else if let valSplit {
            guard valSplit > 0, valSplit < 1 else { throw TrainDataError("--val-split must be between 0 and 1") }
            let every = max(2, Int((1 / valSplit).rounded()))
            var kept: [(String, [Int])] = []
            var seen = [Int: Int]()
            // Every k-th file of each class (a multi-label file counts under its first label).
            for f in folder.files {
                let k = seen[f.labels[0], default: 0]
                seen[f.labels[0]] = k + 1
                if k % every == every - 1 { valFiles.append(f) } else { kept.append(f) }
            }
            folder.files = kept
        }
        try AtomicFile.makeDirectories(output + "/cache")
        let maker = InputMaker(model: base, modelDirectory: model)
        let multiLabel = folder.multiLabel
        let classes = folder.labels.count
        var train = try cachedInputs(folder.files, root: data, maker: maker, name: "train", classes: classes, multiLabel: multiLabel)
        var validation = valFiles.isEmpty ? nil
            : try cachedInputs(valFiles, root: valRoot, maker: maker, name: "val", classes: classes, multiLabel: multiLabel)
        print("data: \(train.inputs.count) training files in \(classes) classes (\(folder.source)"
              + (multiLabel ? ", multi-label" : "") + ")" + (validation.map { ", \($0.inputs.count) validation files" } ?? ""))

        var random = SplitMix64Source.stream("init", seed: seed)
        var adapted = base
        try adapted.replaceHead(labels: folder.labels, multiLabel: multiLabel, random: &random)
        try adapted.attach(spec, random: &random)
        let run = TrainingRun(spec: spec, labels: folder.labels, multiLabel: multiLabel, naming: fileNaming)
        if !noFeatureCache, dumpInitial == nil, let cut = adapted.frozenCut {
            let fingerprint = Self.fingerprint(base)
            train = try cachedFeatures(train, model: adapted, cut: cut, name: "train", fingerprint: fingerprint)
            validation = try validation.map { try cachedFeatures($0, model: adapted, cut: cut, name: "val", fingerprint: fingerprint) }
            print("frozen prefix: everything before the \(cut.name) cut ran once per file (cached in \(output)/cache/); "
                  + "each step runs the rest" + (noAugment ? "" : ", without augmentation (--no-feature-cache augments every step)"))
            try runFromCut(adapted, cut: cut, base: base, run: run, train: train, validation: validation, trap: trap)
        } else {
            try runTraining(&adapted, base: base, run: run, train: train, validation: validation, augment: !noAugment, trap: trap)
        }
    }

    /// Trains `model` from its frozen cut on cached features.
    func runFromCut<M: KinoModel>(_ model: M, cut: ForwardCut, base: any KinoModel, run: TrainingRun,
                                  train: TensorDataset, validation: TensorDataset?, trap: SignalTrap) throws {
        var cutModel = CutModel(model, at: cut)
        try runTraining(&cutModel, base: base, run: run, train: train, validation: validation, augment: false, trap: trap)
    }

    /// What a run trains towards and writes.
    struct TrainingRun {
        var spec: AdapterSpec
        var labels: [String]
        var multiLabel: Bool
        var naming: AdapterNaming
    }

    static func fingerprint(_ base: any KinoModel) -> String {
        "\(base.architecture)-\(base.parameterCount)-" + String(format: "%.6f", base.allParameters.first?.value.storage.first ?? 0)
    }

    func runTraining<M: KinoModel>(_ model: inout M, base: any KinoModel, run: TrainingRun,
                                   train: TensorDataset, validation: TensorDataset?, augment: Bool, trap: SignalTrap) throws {
        let (spec, labels, naming) = (run.spec, run.labels, run.naming)
        let perEpoch = (train.count + batchSize - 1) / batchSize
        let total = steps ?? perEpoch * epochs!
        let rate = learningRate(spec.method)
        let scheduleValue: LearningRateSchedule = schedule == "constant" ? .warmupConstant(rate, warmup: warmup)
            : .warmupCosine(rate, warmup: warmup, total: total)
        guard schedule == "constant" || schedule == "cosine" else { throw TrainDataError("--schedule must be constant or cosine") }
        var configuration = TrainingConfiguration(batchSize: batchSize, shardSize: max(1, (batchSize + threads - 1) / max(1, threads)),
                                                  steps: total, seed: seed, schedule: scheduleValue)
        configuration.shuffle = !noShuffle
        guard let kind = TrainingConfiguration.OptimizerKind(rawValue: optimizer) else { throw TrainDataError("--optimizer must be adamw or sgd") }
        configuration.optimizer = kind
        configuration.weightDecay = weightDecay
        configuration.beta2 = 0.98
        configuration.eps = 1e-6
        configuration.checkpointEvery = checkpointEvery
        if run.multiLabel { configuration.loss = .binaryCrossEntropy }
        var trainer = try Trainer(model: model, configuration: configuration, dataset: train, baseFingerprint: Self.fingerprint(base),
                                  workers: threads)
        if augment {
            let symmetries = try labelSymmetries(labels: labels, multiLabel: run.multiLabel, rank: model.sampleShape.count)
            trainer.augment = Self.augmentation(for: model, flips: !noFlip && mirrorSwaps == nil)
            trainer.symmetries = symmetries
            if !symmetries.isEmpty {
                print("label symmetries: " + symmetries.map { s in
                    let swaps = s.permutation.indices.filter { s.permutation[$0] > $0 }.map { "\(labels[$0])↔\(labels[s.permutation[$0]])" }
                    return s.transform.rawValue + (swaps.isEmpty ? "" : " (" + swaps.joined(separator: ", ") + ")")
                }.joined(separator: ", "))
            }
        }
        if resume {
            try trainer.resume(from: output)
            print("resumed at step \(trainer.step) of \(total)")
        }
        if let dumpInitial {
            var tensors = trainer.model.parameters(where: \.isTrainable).reduce(into: [String: Tensor]()) { $0["param." + trainer.model.canonicalKey($1.key)] = $1.value }
            for (i, x) in train.inputs.enumerated() { tensors[String(format: "input.%06d", i)] = x }
            tensors["labels"] = Tensor(shape: [train.count], values: train.labels.map(Float.init))
            if let targets = train.targets { tensors["targets"] = Tensor.concatenate(targets.map { $0.reshaped([1, $0.count]) }) }
            try SafeTensorsWriter.write(tensors, to: dumpInitial)
        }
        let trainable = trainer.model.trainableParameterCount
        print("method: \(spec.summary); trainable \(trainable.formatted()) of \(trainer.model.parameterCount.formatted()) ("
              + String(format: "%.3f%%", 100 * Double(trainable) / Double(trainer.model.parameterCount)) + "); \(total) steps, \(perEpoch) per epoch")
        var metrics = Self.readMetrics(output)
        let mainMetric = run.multiLabel ? "val_map" : "val_accuracy"
        var best = metrics.compactMap { $0[mainMetric] as? Double }.max() ?? -1
        var sinceBest = 0
        let log = output + "/train-log.jsonl"
        if !resume { try? FileManager.default.removeItem(atPath: log) }
        let logHandle = try Self.appendHandle(log)
        defer { try? logHandle.close() }
        let started = Date()
        let startStep = trainer.step
        let terminal = isatty(2) != 0
        while trainer.step < total, !trap.token.isCancelled {
            let epoch = trainer.step / perEpoch + 1
            let epochEnd = min(total, epoch * perEpoch)
            var epochLoss: Double = 0, epochSteps = 0
            let epochStart = Date()
            try trainer.run(directory: output, until: epochEnd, shouldStop: { trap.token.isCancelled }) { record in
                epochLoss += Double(record.loss)
                epochSteps += 1
                let line = "{\"step\":\(record.step),\"loss\":\(record.loss),\"lr\":\(record.learningRate)}\n"
                logHandle.write(Data(line.utf8))
                let elapsed = Date().timeIntervalSince(started)
                let done = record.step - startStep
                let speed = Double(done * batchSize) / max(elapsed, 1e-9)
                let eta = Double(total - record.step) * elapsed / Double(max(1, done))
                let text = String(format: "epoch %d step %d/%d loss %.4f lr %.2e %.1f samples/s ETA %.0f s", epoch, record.step, total,
                                  record.loss, record.learningRate, speed, eta)
                if terminal { writeStandardError("\r" + text + "   ") } else if record.step % 10 == 0 || record.step == total { print(text) }
            }
            if terminal { writeStandardError("\n") }
            if trap.token.isCancelled { break }
            var entry: [String: Any] = ["epoch": epoch, "step": trainer.step, "train_loss": epochSteps > 0 ? epochLoss / Double(epochSteps) : 0,
                                        "seconds": Date().timeIntervalSince(epochStart)]
            var improved = validation == nil
            if let validation {
                let e = try Self.evaluate(trainer.model, validation, classes: labels.count)
                entry.merge(e.fields) { $1 }
                let figures = run.multiLabel
                    ? String(format: "validation mAP %.4f, micro-F1 %.4f, exact match %.4f", e.main,
                             e.fields["val_micro_f1"] as! Double, e.fields["val_exact_match"] as! Double)
                    : String(format: "validation accuracy %.4f, top-5 %.4f, macro-F1 %.4f", e.main,
                             e.fields["val_top5"] as! Double, e.fields["val_macro_f1"] as! Double)
                print(String(format: "epoch %d: train loss %.4f, ", epoch, entry["train_loss"] as! Double) + figures)
                improved = e.main > best
                if improved { best = e.main; sinceBest = 0 } else { sinceBest += 1 }
            }
            metrics.append(entry)
            try AtomicFile.write(JSONSerialization.data(withJSONObject: ["labels": labels, "epochs": metrics], options: [.prettyPrinted, .sortedKeys]),
                                 to: output + "/metrics.json")
            if improved { try save(trainer.model, spec: spec, naming: naming) }
            if let earlyStop, sinceBest >= earlyStop {
                print("early stop: no better validation \(run.multiLabel ? "mAP" : "accuracy") for \(earlyStop) epochs")
                break
            }
        }
        if trap.token.isCancelled {
            try trainer.saveCheckpoint(in: output)
            print("stopped at step \(trainer.step); checkpoint written, --resume continues")
            return
        }
        if validation == nil || !FileManager.default.fileExists(atPath: output + (spec.method == .full ? "/model" : "/adapter")) {
            try save(trainer.model, spec: spec, naming: naming)
        }
        print("wrote \(output)/\(spec.method == .full ? "model" : "adapter")"
              + (validation != nil ? String(format: " (best validation \(run.multiLabel ? "mAP" : "accuracy") %.4f)", best) : ""))
        model = trainer.model
    }

    func save<M: KinoModel>(_ model: M, spec: AdapterSpec, naming: AdapterNaming) throws {
        if spec.method == .full {
            let temporary = AtomicFile.temporarySibling(of: output + "/model")
            try model.save(to: temporary)
            try? FileManager.default.removeItem(atPath: output + "/model")
            try FileManager.default.moveItem(atPath: temporary, toPath: output + "/model")
        } else {
            try AdapterFolder.write(model, spec: spec, base: self.model, naming: naming, to: output + "/adapter")
        }
    }

    static func evaluate<M: KinoModel>(_ model: M, _ data: TensorDataset, classes: Int) throws -> Evaluation {
        var rows: [Tensor] = []
        for start in stride(from: 0, to: data.count, by: 16) {
            let part = (start ..< min(data.count, start + 16)).map { data.inputs[$0].reshaped([1] + data.inputs[$0].shape) }
            rows.append(try model(Tensor.concatenate(part)).logits!)
        }
        let logits = Tensor.concatenate(rows)
        if let targets = data.targets {
            return Evaluation(logits: logits, targets: targets.map { t in t.storage.indices.filter { t.storage[$0] > 0.5 } }, classes: classes)
        }
        return Evaluation(logits: logits, labels: data.labels, classes: classes)
    }

    /// The label-changing transforms the options ask for, checked against the run.
    func labelSymmetries(labels: [String], multiLabel: Bool, rank: Int) throws -> [LabelSymmetry] {
        let asked: [(LabelSymmetry.Transform, String?)] = [(.mirror, mirrorSwaps), (.flip, flipSwaps), (.reverse, reverseSwaps)]
        var out: [LabelSymmetry] = []
        for (transform, text) in asked {
            guard let text else { continue }
            guard !multiLabel else { throw TrainDataError("--\(transform.rawValue)-swaps needs single-label data") }
            guard rank >= 3 else { throw TrainDataError("--\(transform.rawValue)-swaps needs an image or clip model (this one takes spectrograms)") }
            guard rank == 4 || transform != .reverse else { throw TrainDataError("--reverse-swaps needs a clip model (this one takes single images)") }
            out.append(try LabelSymmetry(transform: transform, swaps: text, labels: labels))
        }
        return out
    }

    /// SpecAugment for AST's fbank windows, a random crop and flip for images and clips.
    static func augmentation<M: KinoModel>(for model: M, flips: Bool) -> @Sendable (Tensor, inout SplitMix64Source) -> Tensor {
        if model is any FbankClassifier { return { x, random in Augmentation.specAugment(x, random: &random) } }
        return { x, random in Augmentation.cropAndFlip(x, random: &random, flips: flips) }
    }

    /// Inputs of `files`, from RUN/cache/NAME.safetensors when it lists the same files and sizes.
    /// A multi-label set carries multi-hot targets; `labels` then holds each file's first label.
    func cachedInputs(_ files: [(path: String, labels: [Int])], root: String, maker: InputMaker, name: String,
                      classes: Int, multiLabel: Bool) throws -> TensorDataset {
        let cache = output + "/cache/\(name).safetensors"
        let fm = FileManager.default
        let signature = files.map { f -> String in
            let size = (try? fm.attributesOfItem(atPath: root + "/" + f.path)[.size] as? Int) ?? -1
            return "\(f.path)\t\(size)\t\(f.labels.map(String.init).joined(separator: ","))"
        }.joined(separator: "\n")
        func dataset(_ inputs: [Tensor], _ kept: [[Int]]) -> TensorDataset {
            let targets = multiLabel ? kept.map { l in Tensor(shape: [classes], values: (0..<classes).map { l.contains($0) ? 1 : 0 }) } : nil
            return TensorDataset(inputs: inputs, labels: kept.map { $0[0] }, targets: targets)
        }
        if let file = try? SafeTensorsFile(path: cache), file.metadata["files"] == signature {
            var inputs: [Tensor] = []
            for i in files.indices {
                guard file.entries["\(i)"] != nil else { break }
                inputs.append(try file.tensor("\(i)"))
            }
            if inputs.count == files.count { return dataset(inputs, files.map(\.labels)) }
        }
        var inputs: [Tensor] = [], labels: [[Int]] = [], kept: [String] = []
        var skipped = 0
        for f in files {
            do {
                inputs.append(try maker.input(for: root + "/" + f.path))
                labels.append(f.labels)
                kept.append(f.path)
            } catch {
                skipped += 1
                printWarning("skipping \(root)/\(f.path): \(describeError(error))")
            }
        }
        guard !inputs.isEmpty else { throw TrainDataError("\(root): none of the \(files.count) \(name) files could be read") }
        if skipped == 0 {
            var tensors: [String: Tensor] = [:]
            for (i, t) in inputs.enumerated() { tensors["\(i)"] = t }
            let temporary = AtomicFile.temporarySibling(of: cache)
            try SafeTensorsWriter.write(tensors, metadata: ["files": signature], to: temporary)
            try AtomicFile.moveIntoPlace(temporary, cache)
        }
        return dataset(inputs, labels)
    }

    /// The frozen prefix's output on every input of `data`, from RUN/cache/NAME-CUT.safetensors
    /// when it was made from the same inputs by the same base model.
    func cachedFeatures<M: KinoModel>(_ data: TensorDataset, model: M, cut: ForwardCut, name: String, fingerprint: String) throws -> TensorDataset {
        let cache = output + "/cache/\(name)-\(cut.name).safetensors"
        // The inputs themselves are identified by their count and a checksum of their values.
        var sum: Double = 0
        for x in data.inputs { for (i, v) in x.storage.enumerated() where i % 97 == 0 { sum += Double(v) } }
        let signature = "\(fingerprint) \(cut.name) \(data.count) " + String(format: "%.6e", sum)
        if let file = try? SafeTensorsFile(path: cache), file.metadata["inputs"] == signature, let all = try? file.tensor("features"),
           all.shape == [data.count] + cut.featureShape {
            return TensorDataset(inputs: (0..<data.count).map { all.slice($0 ..< $0 + 1).reshaped(cut.featureShape) },
                                 labels: data.labels, targets: data.targets)
        }
        var features = [Tensor?](repeating: nil, count: data.count)
        let batches = Array(stride(from: 0, to: data.count, by: 8))
        let lock = NSLock()
        nonisolated(unsafe) var failure: (any Error)?
        nonisolated(unsafe) var shared = features
        // Batches of 8 on `threads` workers, one BLAS thread each.
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, batches.count))) { w in
            for b in stride(from: w, to: batches.count, by: max(1, min(threads, batches.count))) {
                let range = batches[b] ..< min(data.count, batches[b] + 8)
                let batch = Tensor.concatenate(range.map { data.inputs[$0].reshaped([1] + data.inputs[$0].shape) })
                do {
                    let out = try Parallelism.withWorkers(1) { try model.features(batch, at: cut) }
                    lock.lock()
                    for (j, i) in range.enumerated() { shared[i] = out.slice(j ..< j + 1).reshaped(cut.featureShape) }
                    lock.unlock()
                } catch {
                    lock.lock(); failure = error; lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        features = shared
        let all = features.map { $0! }
        let temporary = AtomicFile.temporarySibling(of: cache)
        try SafeTensorsWriter.write(["features": Tensor.concatenate(all.map { $0.reshaped([1] + $0.shape) })],
                                    metadata: ["inputs": signature], to: temporary)
        try AtomicFile.moveIntoPlace(temporary, cache)
        return TensorDataset(inputs: all, labels: data.labels, targets: data.targets)
    }

    static func readMetrics(_ run: String) -> [[String: Any]] {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: run + "/metrics.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return object["epochs"] as? [[String: Any]] ?? []
    }

    static func appendHandle(_ path: String) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        return handle
    }
}
