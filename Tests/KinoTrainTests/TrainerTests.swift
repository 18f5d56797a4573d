import Foundation
import KinoModels
import KinoOptim
import KinoTensor
import KinoTrain
import Testing

/// The MLP of tools/make-grad-fixtures.py: Linear 6→8, LayerNorm, GELU, Linear 8→3.
struct MLP: ParameterContainer {
    var fc1: Linear, norm: LayerNorm, fc2: Linear

    init(_ w: [String: Tensor]) {
        func p(_ k: String) -> Parameter { Parameter(key: k, value: w["initial." + k]!) }
        fc1 = Linear(weight: p("fc1.weight"), bias: p("fc1.bias"))
        norm = LayerNorm(weight: p("norm.weight"), bias: p("norm.bias"), eps: 1e-5)
        fc2 = Linear(weight: p("fc2.weight"), bias: p("fc2.bias"))
    }

    func callAsFunction<C: TensorContext>(_ x: C.Value, _ c: inout C) -> C.Value {
        fc2(c.activation(norm(fc1(x, &c), &c), .gelu), &c)
    }

    mutating func visitParameters(_ body: (inout Parameter) throws -> Void) rethrows {
        try fc1.visitParameters(body)
        try norm.visitParameters(body)
        try fc2.visitParameters(body)
    }
}

enum TrainFixtures {
    static func path(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    static func all(_ name: String) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(path: path(name))
        var out: [String: Tensor] = [:]
        for n in file.names { out[n] = try file.tensor(n) }
        return out
    }

    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kino-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static var modelsFixtures: String {
        // The KinoModelsTests fixture folders, next to this target's in the source tree.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("KinoModelsTests/Fixtures").path
    }

    /// A small labelled set of vit-a inputs (3×32×32) in two classes a linear head can separate.
    static func dataset(count: Int = 12, seed: UInt64 = 3) -> TensorDataset {
        var r = SplitMix64Source(seed: seed)
        var inputs: [Tensor] = [], labels: [Int] = []
        for i in 0..<count {
            var x = r.normal([3, 32, 32], standardDeviation: 0.5)
            let label = i % 5
            for j in 0..<x.count where (j / 32) % 5 == label { x.storage[j] += 1 }
            inputs.append(x)
            labels.append(label)
        }
        return TensorDataset(inputs: inputs, labels: labels)
    }
}

@Suite("optimisers against torch.optim")
struct OptimizerTrajectoryTests {
    @Test("20 AdamW and 20 SGD (momentum, Nesterov, weight decay) steps end within 1e-5 of torch's weights",
          arguments: ["adamw", "sgd"])
    func trajectory(_ name: String) throws {
        let w = try TrainFixtures.all("optimizer-trajectory.safetensors")
        var model = MLP(w)
        var optimizer: any Optimizer = name == "adamw"
            ? AdamW(beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05)
            : SGD(momentum: 0.9, nesterov: true, weightDecay: 1e-3)
        let lr: Float = name == "adamw" ? 1e-2 : 0.1
        for i in 0..<20 {
            let tape = Tape(mode: .evaluation)
            var c = tape
            let x = w["batch.\(i).x"]!, y = w["batch.\(i).y"]!.storage.map { Int($0) }
            let loss = c.crossEntropy(model(tape.constant(x), &c), labels: y, labelSmoothing: 0, divisor: nil)
            optimizer.update(&model, gradients: tape.backward(from: loss), learningRate: lr)
        }
        var worst: Float = 0
        for p in model.allParameters {
            worst = max(worst, p.value.maxAbsDifference(w["\(name).\(p.key)"]!))
        }
        print("\(name) 20-step trajectory: max |Δ| to torch \(worst)")
        #expect(worst <= 1e-5)
    }

    @Test("schedules: warm-up, cosine and step as data")
    func schedules() throws {
        let cosine = LearningRateSchedule.warmupCosine(1, warmup: 4, total: 14)
        #expect(cosine(0) == 0.25 && cosine(3) == 1)
        #expect(abs(cosine(9) - 0.5) < 1e-6 && abs(cosine(14)) < 1e-6)
        #expect(LearningRateSchedule.step(1, every: 10, gamma: 0.5)(25) == 0.25)
        let data = try JSONEncoder().encode(cosine)
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: data) == cosine)
    }

    @Test("clipping by global norm as torch's clip_grad_norm_")
    func clipping() {
        var g: Gradients = ["a": Tensor(shape: [2], values: [3, 0]), "b": Tensor(shape: [1], values: [4])]
        let norm = clipGradientNorm(&g, maximum: 1)
        #expect(norm == 5)
        #expect(abs(g["a"]!.storage[0] - 0.6) < 1e-6 && abs(g["b"]!.storage[0] - 0.8) < 1e-6)
    }
}

@Suite("trainer: resume, workers, checkpoints")
struct TrainerTests {
    static func model(frozenBackbone: Bool = false) throws -> ViTForImageClassification {
        var m = try #require(try ModelRegistry.load(directory: TrainFixtures.modelsFixtures + "/vit-a") as? ViTForImageClassification)
        if frozenBackbone {
            m.freeze()
            m.unfreeze(matching: "classifier.*, *layer.1.*")
        }
        return m
    }

    static func configuration(steps: Int = 6) -> TrainingConfiguration {
        var c = TrainingConfiguration(batchSize: 4, shardSize: 2, steps: steps, seed: 11,
                                      schedule: .warmupCosine(3e-3, warmup: 2, total: steps))
        c.checkpointEvery = 2
        c.clipNorm = 1
        c.emaDecay = 0.9
        return c
    }

    @Test("N steps straight equal k steps, checkpoint, resume, N − k steps, bit for bit")
    func resumeIsBitwise() throws {
        let dir = try TrainFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var straight = try Trainer(model: Self.model(), configuration: Self.configuration(), dataset: TrainFixtures.dataset(),
                                   baseFingerprint: "vit-a")
        try straight.run(directory: nil)
        var first = try Trainer(model: Self.model(), configuration: Self.configuration(), dataset: TrainFixtures.dataset(),
                                baseFingerprint: "vit-a")
        try first.run(directory: dir, until: 3)
        #expect(Trainer<ViTForImageClassification>.checkpoints(in: dir).last?.hasSuffix("checkpoint-000003") == true)
        var resumed = try Trainer(model: Self.model(), configuration: Self.configuration(), dataset: TrainFixtures.dataset(),
                                  baseFingerprint: "vit-a")
        try resumed.resume(from: dir)
        #expect(resumed.step == 3)
        try resumed.run(directory: dir)
        #expect(resumed.losses == straight.losses)
        for (a, b) in zip(resumed.model.allParameters, straight.model.allParameters) { #expect(a.value == b.value, "\(a.key)") }
        #expect(straight.losses.last! < straight.losses.first!)
        // Two checkpoints kept, the newest the final one.
        #expect(Trainer<ViTForImageClassification>.checkpoints(in: dir).map { ($0 as NSString).lastPathComponent }
                == ["checkpoint-000004", "checkpoint-000006"])
    }

    @Test("one and two workers give the same weights bit for bit")
    func workersAgree() throws {
        var one = try Trainer(model: Self.model(), configuration: Self.configuration(steps: 3), dataset: TrainFixtures.dataset(),
                              baseFingerprint: "vit-a", workers: 1)
        var two = try Trainer(model: Self.model(), configuration: Self.configuration(steps: 3), dataset: TrainFixtures.dataset(),
                              baseFingerprint: "vit-a", workers: 2)
        try one.run(directory: nil)
        try two.run(directory: nil)
        #expect(one.losses == two.losses)
        for (a, b) in zip(one.model.allParameters, two.model.allParameters) { #expect(a.value == b.value, "\(a.key)") }
    }

    @Test("resume refuses another base model or configuration, naming the difference")
    func resumeMismatch() throws {
        let dir = try TrainFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try Trainer(model: Self.model(), configuration: Self.configuration(steps: 2), dataset: TrainFixtures.dataset(),
                            baseFingerprint: "vit-a")
        try t.run(directory: dir)
        var other = try Trainer(model: Self.model(), configuration: Self.configuration(steps: 2), dataset: TrainFixtures.dataset(),
                                baseFingerprint: "vit-b")
        #expect { try other.resume(from: dir) } throws: { error in
            guard case .resumeMismatch(_, let reason) = error as? TrainError else { return false }
            return reason.contains("fingerprint")
        }
        var config = Self.configuration(steps: 2)
        config.seed = 12
        var changed = try Trainer(model: Self.model(), configuration: config, dataset: TrainFixtures.dataset(), baseFingerprint: "vit-a")
        #expect { try changed.resume(from: dir) } throws: { error in
            guard case .resumeMismatch(_, let reason) = error as? TrainError else { return false }
            return reason.contains("seed")
        }
        var frozen = try Trainer(model: Self.model(frozenBackbone: true), configuration: Self.configuration(steps: 2),
                                 dataset: TrainFixtures.dataset(), baseFingerprint: "vit-a")
        #expect(throws: TrainError.self) { try frozen.resume(from: dir) }
    }

    @Test("an interrupted save leaves the last complete checkpoint the one resumed")
    func interruptedSave() throws {
        let dir = try TrainFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try Trainer(model: Self.model(), configuration: Self.configuration(steps: 2), dataset: TrainFixtures.dataset(),
                            baseFingerprint: "vit-a")
        try t.run(directory: dir)
        // What kill -9 in the middle of writing checkpoint 4 leaves behind.
        let partial = dir + "/.checkpoint-000004.incomplete"
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        try Data("{\"step\": 4".utf8).write(to: URL(fileURLWithPath: partial + "/trainer_state.json"))
        var resumed = try Trainer(model: Self.model(), configuration: Self.configuration(steps: 2), dataset: TrainFixtures.dataset(),
                                  baseFingerprint: "vit-a")
        try resumed.resume(from: dir)
        #expect(resumed.step == 2)
    }

    @Test("a non-finite loss stops training with the step, before any weight changes")
    func nonFinite() throws {
        var data = TrainFixtures.dataset()
        data.inputs[0].storage[5] = .nan
        var config = Self.configuration(steps: 4)
        config.shuffle = false
        var t = try Trainer(model: Self.model(), configuration: config, dataset: data, baseFingerprint: "vit-a")
        let before = t.model.allParameters
        #expect(throws: TrainError.self) { try t.trainStep() }
        #expect(t.step == 0)
        #expect(t.model.allParameters == before)
    }

    @Test("overfitting one batch drives the loss close to zero (fails if a gradient is silently zero)")
    func overfit() throws {
        var config = TrainingConfiguration(batchSize: 4, steps: 60, seed: 1, schedule: .constant(3e-3))
        config.weightDecay = 0
        var t = try Trainer(model: Self.model(), configuration: config, dataset: TrainFixtures.dataset(count: 4),
                            baseFingerprint: "vit-a")
        try t.run(directory: nil)
        print("overfit: loss \(t.losses.first!) → \(t.losses.last!)")
        #expect(t.losses.last! < 0.05 * t.losses.first!)
        // Every parameter moved: none of them got a zero gradient all along.
        let start = try Self.model()
        for (a, b) in zip(t.model.allParameters, start.allParameters) where !a.key.hasSuffix("attention.key.bias") {
            #expect(a.value != b.value, "\(a.key) never changed")
        }
    }
}
