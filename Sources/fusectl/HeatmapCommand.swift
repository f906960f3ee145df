import ArgumentParser
import FusionJobs
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

            Plain maps do not record how many image tokens make a frame (P): give --tokens-per-frame P, \
            or --frames T to derive P from the token axis (T*P / T). Without either, every token is drawn \
            as a frame and a note on standard error says so. Per-step maps know P (the token axis over the \
            step axis). 'fuse --attention-png' always knows P.

            Example:
              fusectl fuse --weights w.npz --text t.npy --images i.npy \\
                  --out f.npy --attention a.npy
              fusectl heatmap a.npy --out a.png --sample 0 --frames 12
            """
    )

    @Argument(help: "The attention maps: a .npy, or a .npz (its member 'attention', or its only member); '-' for standard input.")
    var maps: String

    @Option(help: ArgumentHelp("Where to write the PNG ('-' for standard output).", valueName: "file"))
    var out: String

    @Option(help: "Draw only this sample (0-based).")
    var sample: Int?

    @Option(help: "Per-step maps: the block to draw (with --head); default: the average over blocks and heads.")
    var block: Int?

    @Option(help: "Per-step maps: the head to draw (with --block).")
    var head: Int?

    @Option(help: "Image tokens per frame (P) for plain maps. Per-step maps know it.")
    var tokensPerFrame: Int?

    @Option(help: "Frames (T) of the history: P is then the token axis divided by T.")
    var frames: Int?

    func validate() throws {
        if (block == nil) != (head == nil) { throw ValidationError("Give --block and --head together.") }
        if let tokensPerFrame, tokensPerFrame < 1 { throw ValidationError("--tokens-per-frame must be at least 1.") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1.") }
        try checkNoOutputIsAnInput(outputs: [RunFile(label: "--out", path: out)], inputs: [RunFile(label: "<maps>", path: maps)])
    }

    func run() throws {
        do {
            let array = try Self.readMaps(path: maps)
            var options = HeatmapOptions(sample: sample)
            if let block, let head { options.selection = .block(block, head: head) }
            let perFrame = try resolvedTokensPerFrame(shape: array.shape)
            try writeHeatmap(values: try array.float32Elements(), shape: array.shape, tokensPerFrame: perFrame,
                             options: options, to: out)
        } catch {
            throw failure("heatmap", error)
        }
    }
}

extension HeatmapCommand {
    /// The maps: a .npy, the member 'attention' of a .npz ('fuse --out r.npz --attention r.npz'), or
    /// the one member of a single-member .npz.
    static func readMaps(path: String) throws -> NpyArray {
        switch try openNumpyFile(path: path) {
        case .npy(let array):
            return array
        case .npz(let archive):
            if archive.contains(OutputFiles.attentionMember) {
                return try archive.array(named: OutputFiles.attentionMember)
            }
            guard archive.memberNames.count == 1 else {
                throw HeatmapInputError(message:
                    "\(path == "-" ? "<stdin>" : path): is a .npz archive without an 'attention' member and of "
                        + "\(archive.memberNames.count) members; expected attention maps (a .npy, or a .npz of one member)")
            }
            return try archive.array(named: archive.memberNames[0])
        }
    }

    /// P from --tokens-per-frame or --frames (which must agree with each other and the token axis);
    /// nil (each token a frame) with a note when neither is given for plain maps of several tokens.
    func resolvedTokensPerFrame(shape: [Int]) throws -> Int? {
        guard let tokens = shape.last, shape.count == 4 || shape.count == 5 else { return tokensPerFrame }
        var perFrame = tokensPerFrame
        if let frames {
            guard tokens % frames == 0 else {
                throw HeatmapInputError(message: "\(maps): the token axis has \(tokens) tokens, not a multiple of --frames \(frames)")
            }
            if let perFrame, perFrame * frames != tokens {
                throw HeatmapInputError(message:
                    "\(maps): --frames \(frames) and --tokens-per-frame \(perFrame) make \(perFrame * frames) tokens, but the token axis has \(tokens)")
            }
            perFrame = tokens / frames
        }
        if perFrame == nil && shape.count == 4 && tokens > 1 {
            printError("fusectl heatmap: note: plain maps do not record tokens per frame; drawing each of the \(tokens) "
                + "tokens as a frame (give --tokens-per-frame P or --frames T if frames have several tokens)")
        }
        return perFrame
    }
}

struct HeatmapInputError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Renders maps (plain or per-step, told apart by rank) and writes the PNG atomically.
func writeHeatmap(values: [Float], shape: [Int], tokensPerFrame: Int?, options: HeatmapOptions, to path: String) throws {
    let maps = try AttentionMaps(values: values, shape: shape, tokensPerFrame: tokensPerFrame)
    let png = PNGEncoder.encode(try HeatmapRenderer.render(maps, options: options))
    try OutputFile.write(to: path) { try $0.write(png) }
}
