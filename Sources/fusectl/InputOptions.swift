import ArgumentParser
import FusionJobs

/// Where the batch comes from: separate files or one `--batch` bundle.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Text latents, (B, L, txt) or pooled (B, txt).", valueName: "file"))
    var text: String?

    @Option(help: ArgumentHelp("Image latents, (B, T, img) or (B, T, P, img).", valueName: "file"))
    var images: String?

    @Option(help: ArgumentHelp("Real text tokens per sample, (B,) integers.", valueName: "file"))
    var textLengths: String?

    @Option(help: ArgumentHelp("Text mask, (B, L); nonzero marks a real token (left or right padding).", valueName: "file"))
    var textMask: String?

    @Option(help: ArgumentHelp("Valid frames per sample, (B,) integers in 1...T.", valueName: "file"))
    var imageLengths: String?

    @Option(help: ArgumentHelp(
        "One .npz holding 'text', 'images' and optionally 'text_lengths', 'text_mask', 'image_lengths'.",
        valueName: "file"))
    var batch: String?

    /// The options that read standard input.
    var stdinUsers: [String] {
        [("--text", text), ("--images", images), ("--text-lengths", textLengths), ("--text-mask", textMask),
         ("--image-lengths", imageLengths), ("--batch", batch)]
            .filter { $0.1 == "-" }.map(\.0)
    }

    func validate() throws {
        let separate = [text, images, textLengths, textMask, imageLengths].contains { $0 != nil }
        if batch != nil && separate {
            throw ValidationError("Give either --batch or the separate input files (--text, --images, ...), not both.")
        }
        if batch == nil && !isEmpty && (text == nil || images == nil) {
            throw ValidationError("Missing inputs: give --text and --images, or --batch.")
        }
        if textLengths != nil && textMask != nil {
            throw ValidationError("Give at most one of --text-lengths and --text-mask.")
        }
    }

    /// Whether any single-batch input option was given.
    var isEmpty: Bool { [text, images, textLengths, textMask, imageLengths, batch].allSatisfy { $0 == nil } }

    /// The files, for the library to open.
    var files: InputFiles {
        InputFiles(text: text, images: images, textLengths: textLengths, textMask: textMask,
                   imageLengths: imageLengths, batch: batch)
    }
}
