import ArgumentParser
import Heatmap
import NpyIO

/// `fusectl heatmap`: attention maps as a picture.
struct HeatmapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heatmap",
        abstract: "Draw attention maps written by 'fuse --attention' as a PNG heatmap.",
        discussion: """
            Plain maps (B, N, H, T*P): one panel per sample (or --sample), one row per block and head, one \
            column per frame (the weights of a frame's P tokens summed). Per-step maps (B, T, N, H, T*P): a \
            step x frame image per sample for one --block/--head, or averaged over all of them. The colour \
            scale (viridis, perceptually uniform) runs from 0 to the largest weight drawn, so the most \
            attended frame is the brightest; a legend shows the scale.

            Example:
              fusectl fuse --weights w.npz --text t.npy --images i.npy --out f.npy --attention a.npy
              fusectl heatmap a.npy --out a.png --sample 0
            """
    )

    @Argument(help: "The attention maps .npy ('-' for standard input).")
    var maps: String

    @Option(help: ArgumentHelp("Where to write the PNG ('-' for standard output).", valueName: "file"))
    var out: String

    @Option(help: "Draw only this sample (0-based).")
    var sample: Int?

    @Option(help: "Per-step maps: the block to draw (with --head); default: the average over blocks and heads.")
    var block: Int?

    @Option(help: "Per-step maps: the head to draw (with --block).")
    var head: Int?

    @Option(help: "Image tokens per frame (P) for plain maps; default 1. Per-step maps know it.")
    var tokensPerFrame: Int?

    func validate() throws {
        if (block == nil) != (head == nil) { throw ValidationError("Give --block and --head together.") }
        if let tokensPerFrame, tokensPerFrame < 1 { throw ValidationError("--tokens-per-frame must be at least 1.") }
    }

    func run() throws {
        do {
            let array = try NpyFile.read(path: maps)
            var options = HeatmapOptions(sample: sample)
            if let block, let head { options.selection = .block(block, head: head) }
            try writeHeatmap(values: try array.float32Elements(), shape: array.shape, tokensPerFrame: tokensPerFrame,
                             options: options, to: out)
        } catch {
            throw failure("heatmap", error)
        }
    }
}

/// Renders maps (plain or per-step, told apart by rank) and writes the PNG atomically.
func writeHeatmap(values: [Float], shape: [Int], tokensPerFrame: Int?, options: HeatmapOptions, to path: String) throws {
    let maps = try AttentionMaps(values: values, shape: shape, tokensPerFrame: tokensPerFrame)
    let png = PNGEncoder.encode(try HeatmapRenderer.render(maps, options: options))
    try OutputFile.write(to: path) { try $0.write(png) }
}
