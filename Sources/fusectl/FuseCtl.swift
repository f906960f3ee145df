import ArgumentParser
import Fusion
import NpyIO
#if canImport(Glibc)
import Glibc
#endif

/// The `fusectl` root command: it only configures the subcommands.
@main
struct FuseCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fusectl",
        abstract: "Fuse text and image latents with a cross-attention transformer, over NumPy files.",
        discussion: """
            The model is described in docs/model.md: the instruction's last real token queries the history of \
            frames through N cross-attention blocks and comes out as one vector per sample, (B, 1, d).

            Every file argument accepts '-' for standard input or output. Data errors exit with status 1 \
            (compare: 2) and never leave a partial output file behind.

            Shell completions: 'fusectl --generate-completion-script bash' (or zsh, fish) prints a \
            script to source or install. The manual page is docs/fusectl.1 ('man ./docs/fusectl.1').
            """,
        version: FuseCtl.version,
        subcommands: [Fuse.self, Stream.self, Init.self, Inspect.self, Compare.self, HeatmapCommand.self]
    )

    /// What `fusectl --version` prints (the version lives in `FusionVersion`).
    static let version = "fusectl \(FusionVersion.current)"

    /// Ignores SIGPIPE so that a closed pipe becomes an error (EPIPE) the writers report, not a silent
    /// death, removes unfinished output files when SIGINT, SIGTERM or SIGHUP ends the run, and turns
    /// the SIGBUS of an input file shrinking under its memory map into an error naming the file.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        TemporaryFileRegistry.installInterruptCleanup()
        MappedFileRegistry.installFaultHandler()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "help", let unknown = unknownHelpTopic(Array(arguments.dropFirst())) {
            printError("Error: \(unknown)")
            printError("Usage: fusectl help <subcommand>\n  See 'fusectl --help' for the subcommands.")
            Glibc.exit(ExitCode.validationFailure.rawValue)
        }
        main(nil)
    }

    /// Why `fusectl help NAME...` names no command, or nil when it does (the argument parser would
    /// print the root's help and exit 0 for a misspelt name).
    static func unknownHelpTopic(_ names: [String]) -> String? {
        var command: ParsableCommand.Type = FuseCtl.self
        for name in names where !name.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            guard let next = subcommands.first(where: { $0._commandName == name }) else {
                let known = subcommands.map { $0._commandName }.joined(separator: ", ")
                return known.isEmpty
                    ? "unknown subcommand '\(name)': '\(command._commandName)' has no subcommands"
                    : "unknown subcommand '\(name)' (the subcommands of '\(command._commandName)' are: \(known))"
            }
            command = next
        }
        return nil
    }
}
