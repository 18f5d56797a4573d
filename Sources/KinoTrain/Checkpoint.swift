// Checkpoints as atomic folders: RUN/checkpoint-000500/ is written as
// RUN/.checkpoint-000500.incomplete and renamed, so a kill at any moment leaves the last
// complete checkpoint intact and no half-written one that looks complete.
import Foundation
import KinoModels
import KinoTensor

extension Trainer {
    /// Folder name of the checkpoint after `step` steps.
    public static func checkpointName(_ step: Int) -> String { String(format: "checkpoint-%06d", step) }

    /// Writes the trainable weights, the optimiser moments, the EMA and the trainer state.
    /// - Returns: the checkpoint folder.
    @discardableResult
    public func saveCheckpoint(in directory: String) throws -> String {
        let fm = FileManager.default
        let final = directory + "/" + Self.checkpointName(step)
        let temporary = directory + "/." + Self.checkpointName(step) + ".incomplete"
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: temporary)
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            try model.saveParameters(to: temporary + "/trainable.safetensors", metadata: ["step": "\(step)"], where: \.isTrainable)
            try SafeTensorsWriter.write(optimizer.stateTensors, metadata: ["step": "\(optimizer.step)"],
                                        to: temporary + "/optimizer.safetensors")
            if let ema { try SafeTensorsWriter.write(ema.shadow, to: temporary + "/ema.safetensors") }
            let buffers = model.buffers
            if !buffers.isEmpty { try SafeTensorsWriter.write(buffers, to: temporary + "/buffers.safetensors") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: URL(fileURLWithPath: temporary + "/trainer_state.json"))
            try? fm.removeItem(atPath: final)
            try fm.moveItem(atPath: temporary, toPath: final)
        } catch {
            throw TrainError.unwritable(path: final, reason: (error as? any LocalizedError)?.errorDescription ?? "\(error)")
        }
        // Prune older complete checkpoints only once the new one is in place.
        let kept = Self.checkpoints(in: directory)
        for old in kept.dropLast(configuration.keepCheckpoints) { try? fm.removeItem(atPath: old) }
        return final
    }

    /// Complete checkpoint folders in `directory`, oldest first.
    public static func checkpoints(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") && FileManager.default.fileExists(atPath: directory + "/" + $0 + "/trainer_state.json") }
            .sorted().map { directory + "/" + $0 }
    }

    /// Continues from `checkpoint` (a folder), or from the newest in a run folder.
    /// - Throws: ``TrainError/resumeMismatch(path:reason:)`` naming what differs (base model,
    ///   configuration, trainable keys or shapes), ``TrainError/unreadableCheckpoint(path:reason:)``.
    public mutating func resume(from path: String) throws {
        var folder = path
        if !FileManager.default.fileExists(atPath: path + "/trainer_state.json") {
            guard let newest = Self.checkpoints(in: path).last else {
                throw TrainError.unreadableCheckpoint(path: path, reason: "no complete checkpoint-* folder")
            }
            folder = newest
        }
        do {
            let saved = try JSONDecoder().decode(TrainerState.self,
                                                 from: Data(contentsOf: URL(fileURLWithPath: folder + "/trainer_state.json")))
            let trainable = try Self.readAll(folder + "/trainable.safetensors")
            let moments = try Self.readAll(folder + "/optimizer.safetensors")
            let emaPath = folder + "/ema.safetensors"
            let emaState = FileManager.default.fileExists(atPath: emaPath) ? try Self.readAll(emaPath) : nil
            try restore(saved, trainable: trainable, optimizerState: moments, ema: emaState, path: folder)
            let buffersPath = folder + "/buffers.safetensors"
            if FileManager.default.fileExists(atPath: buffersPath) { try model.updateBuffers(Self.readAll(buffersPath)) }
        } catch let error as TrainError {
            throw error
        } catch {
            throw TrainError.unreadableCheckpoint(path: folder, reason: (error as? any LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    static func readAll(_ path: String) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(path: path)
        var out: [String: Tensor] = [:]
        for name in file.names { out[name] = try file.tensor(name) }
        return out
    }
}
