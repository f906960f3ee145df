import ArgumentParser
import Fusion
import NpyIO

/// `fusectl fuse`: the main job.
struct Fuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuse instructions and frame histories into one vector per sample.",
        discussion: """
            Inputs come as separate files (--text, --images and optionally --text-lengths or --text-mask, \
            and --image-lengths) or as one bundle (--batch) with members 'text', 'images', 'text_lengths', \
            'text_mask', 'image_lengths'. Shapes:
              text           (B, L, txt_latent_dim), or (B, txt_latent_dim) when already pooled
              images         (B, T, img_latent_dim), or (B, T, P, img_latent_dim)
              text_lengths   (B,) integers: sample b's real tokens are 0..len-1
              text_mask      (B, L): nonzero marks a real token; the last real one is used
              image_lengths  (B,) integers: valid frames, 1..T; later frames are padding

            The output is (B, 1, d), or (B, T, d) with --per-step, where row t is the fusion of frames 0..t \
            (zeros for t >= image_lengths[b]). --attention writes the attention weights: (B, N, H, T*P), or \
            (B, T, N, H, T*P) with --per-step. Outputs are written atomically: on any error no file is left.

            Examples:
              fusectl fuse --weights w.npz --text text.npy --images frames.npy --out fused.npy
              fusectl fuse --weights ckpt.npz --prefix policy.fusion. --batch batch.npz --per-step --out - > steps.npy
            """
    )

    @OptionGroup(title: "Model")
    var model: ModelOptions

    @OptionGroup(title: "Inputs")
    var inputs: InputOptions

    @Flag(help: "Fuse every prefix of the history: output (B, T, d).")
    var perStep = false

    @Option(help: ArgumentHelp("Also write the attention weights to this .npy file.", valueName: "file"))
    var attention: String?

    @Option(help: ArgumentHelp("Where to write the fused vectors ('-' for standard output).", valueName: "file"))
    var out: String

    @Option(help: "The output's dtype: float16, float32 or float64.")
    var outDtype: OutputDType = .float32

    @Flag(help: "Let NaN and Inf in the inputs through instead of failing.")
    var allowNonfinite = false

    @Flag(help: "Print a short human summary on standard error: the output shape, a few values of each sample and the frames that got the most attention.")
    var report = false

    func validate() throws {
        try inputs.validate()
        let stdinUsers = inputs.stdinUsers + (model.weights == "-" ? ["--weights"] : [])
            + (model.config == "-" ? ["--config"] : [])
        if stdinUsers.count > 1 {
            throw ValidationError("Only one input can be '-' (standard input); got \(stdinUsers.joined(separator: ", ")).")
        }
        if attention == "-" && out == "-" {
            throw ValidationError("--attention and --out cannot both be '-' (standard output).")
        }
    }

    func run() throws {
        do {
            let fusionModel = try model.loadModel()
            let batch = try inputs.load(model: fusionModel)
            if !allowNonfinite { try batch.checkFinite() }
            var options = FusionOptions()
            options.perStep = perStep
            options.attention = attention != nil || (report && !perStep)
            let result = try fusionModel.fuseReference(batch, options: options)
            try writeOutputs(result)
            if report { printReport(result, tokensPerFrame: batch.tokensPerFrame) }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw failure("fuse", error)
        }
    }

    /// Writes the attention maps first, so that a failure there leaves no output file either.
    private func writeOutputs(_ result: FusionResult) throws {
        if let attention, let maps = result.attention {
            try NpyFile.write(NpyArray(float32: maps.values, shape: maps.shape), to: attention)
        }
        let output = try NpyArray(float32: result.output.values, shape: result.output.shape)
            .converted(to: outDtype.dtype)
        do {
            try NpyFile.write(output, to: out)
        } catch {
            if let attention { removeFileIfRegular(attention) }
            throw error
        }
    }
}

extension Fuse {
    /// `--report`: what came out, for a person at the terminal.
    func printReport(_ result: FusionResult, tokensPerFrame: Int) {
        let shape = result.output.shape
        printError("fused \(shape[0]) samples -> \(shapeText(shape)) \(outDtype.rawValue) in \(out == "-" ? "<stdout>" : out)")
        let frameWeights = result.attention.flatMap { maps in
            perStep ? nil : FrameAttention.perFrame(values: maps.values, shape: maps.shape, tokensPerFrame: tokensPerFrame)
        }
        let rowLength = shape.dropFirst().reduce(1, *)
        for sample in 0..<shape[0] {
            let first = result.output.values[(sample * rowLength)..<(sample * rowLength + min(4, rowLength))]
            var line = "sample \(sample): [" + first.map { formatValue(Double($0)) }.joined(separator: ", ")
                + (rowLength > 4 ? ", ...]" : "]")
            if let weights = frameWeights?[sample] {
                let top = FrameAttention.top(weights, count: 3)
                line += "; most attended frames: " + top.map { "\($0) (\(formatValue(weights[$0])))" }.joined(separator: ", ")
            }
            printError(line)
        }
    }
}

/// The dtypes `--out-dtype` accepts.
enum OutputDType: String, ExpressibleByArgument, CaseIterable {
    case float16, float32, float64

    var dtype: NpyDType {
        switch self {
        case .float16: return .float16
        case .float32: return .float32
        case .float64: return .float64
        }
    }
}
