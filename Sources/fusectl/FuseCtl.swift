import ArgumentParser

@main
struct FuseCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fusectl",
        abstract: "Fuse text and image latents with a cross-attention transformer, over NumPy files."
    )
}
