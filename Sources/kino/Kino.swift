import ArgumentParser

@main
struct Kino: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kino",
        abstract: "A media-processing pipeline: decode, sample, flow, spectrograms, models.",
        version: "0.1.0",
        subcommands: [ProbeCommand.self, FramesCommand.self, SpectrogramCommand.self, ProcessCommand.self,
                      PipelineCommand.self, PipelinesCommand.self, WatchCommand.self, LedgerCommand.self,
                      FlowCommand.self, ModelCommand.self, ClassifyCommand.self, TrainCommand.self]
    )
}
