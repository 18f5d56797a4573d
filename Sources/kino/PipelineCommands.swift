import ArgumentParser
import Foundation
import KinoGraph

struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "Work with pipeline files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a pipeline without running it: print its stages and edges, or the error with its line.")

        @Argument(help: "A pipeline name (see `kino pipelines`) or a path to a YAML file.") var pipeline: String

        func run() throws {
            do {
                let entry = try PipelineLibrary.standard().resolve(pipeline)
                let graph = try entry.spec.makeGraph(context: BuildContext(inputPath: "input"))
                print("\(entry.path): pipeline '\(entry.spec.name)' is valid")
                if !entry.spec.description.isEmpty { print("  \(entry.spec.description)") }
                print("stages (\(graph.nodes.count)):")
                for node in graph.nodes {
                    let stage = node.stage
                    let output = stage.outputType.map { "→ \($0)" } ?? "(sink)"
                    var extra = ""
                    if node.options.parallelism > 1 { extra += "  parallelism \(node.options.parallelism)" }
                    if node.options.heavy ?? stage.isHeavy { extra += "  heavy" }
                    print("  \(node.id.padding(toLength: 14, withPad: " ", startingAt: 0)) \(node.kind.padding(toLength: 16, withPad: " ", startingAt: 0)) \(output)\(extra)")
                }
                let edges = graph.nodes.flatMap { node in
                    node.inputs.enumerated().map { "  \($0.element) → \(node.id)" + (node.inputs.count > 1 ? " [input \($0.offset)]" : "") }
                }
                print("edges (\(edges.count)):")
                edges.forEach { print($0) }
            } catch {
                printError(error)
                throw ExitCode(1)
            }
        }
    }
}

struct PipelinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "List the bundled pipelines with their descriptions.",
        discussion: """
            Searched in order (the first folder holding a name wins): each folder of $KINO_PIPELINES \
            (colon-separated), <binary dir>/../share/kino/pipelines, <binary dir>/pipelines, \
            ./pipelines, and the pipelines/ folder of the source tree kino was built from.
            """)

    @Flag(help: "Also print the folders searched.") var verbose = false

    func run() throws {
        let library = PipelineLibrary.standard()
        if verbose { library.directories.forEach { print("searching \($0)") } }
        let found = library.list()
        if found.isEmpty {
            printError(GraphError.invalidPipeline(message: "no pipelines found (looked in \(library.directories.joined(separator: ", ")))", line: nil))
            throw ExitCode(1)
        }
        let width = found.map(\.name.count).max() ?? 0
        for item in found {
            let name = item.name.padding(toLength: width, withPad: " ", startingAt: 0)
            switch item.result {
            case .success(let spec): print("\(name)  \(spec.description.isEmpty ? "(no description)" : spec.description)")
            case .failure(let error): print("\(name)  INVALID: \(describeError(error))")
            }
            if verbose { print("\(String(repeating: " ", count: width))  \(item.path)") }
        }
    }
}
