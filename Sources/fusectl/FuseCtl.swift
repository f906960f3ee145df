import ArgumentParser
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
            """,
        subcommands: [Fuse.self, Stream.self, Init.self, Inspect.self, Compare.self, HeatmapCommand.self]
    )

    /// Ignores SIGPIPE so that a closed pipe becomes an error (EPIPE) the writers report, not a silent
    /// death, removes unfinished output files when SIGINT, SIGTERM or SIGHUP ends the run, and turns
    /// the SIGBUS of an input file shrinking under its memory map into an error naming the file.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        TemporaryFileRegistry.installInterruptCleanup()
        MappedFileRegistry.installFaultHandler()
        main(nil)
    }
}
