import ArgumentParser
import FusionJobs

/// Where the batch comes from: separate files or one `--batch` bundle.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Text latents, (B, L, txt) or pooled (B, txt); with --one-sample (L, txt) or (txt).", valueName: "file"))
    var text: String?

    @Option(help: ArgumentHelp("Image latents, (B, T, img) or (B, T, P, img); with --one-sample (T, img) or (T, P, img).", valueName: "file"))
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

    @Flag(help: "Each file is one sample, without a batch axis: text (L, txt) token latents or (txt) pooled, images (T, img) or (T, P, img), text mask (L), lengths a scalar - one episode per file, as an encoder writes them (and as 'stream --text' reads an instruction). Applies to --batch bundles and to every --manifest job.")
    var oneSample = false

    @Option(help: ArgumentHelp(
        "What a --batch bundle's other members (not text, images, text_lengths, text_mask, image_lengths) are: refuse (an error, so that a misspelt member is caught) or ignore (left aside unread, e.g. 'episode_id', unless one looks like a misspelt known member). Applies to every --manifest job.",
        valueName: "refuse|ignore"))
    var batchExtra: InputFiles.ExtraMembers = .refuse

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
        if textLengths != nil && textMask != nil {
            throw ValidationError("Give at most one of --text-lengths and --text-mask.")
        }
    }

    /// A single batch's inputs are complete (checked apart from ``validate()``, which runs before the
    /// command knows whether a manifest supplies the inputs instead).
    func validateComplete() throws {
        if batch == nil && !isEmpty && (text == nil || images == nil) {
            throw ValidationError("Missing inputs: give --text and --images, or --batch.")
        }
    }

    /// The single-batch input options that were given, as written on the command line.
    var given: [String] {
        [("--text", text), ("--images", images), ("--text-lengths", textLengths), ("--text-mask", textMask),
         ("--image-lengths", imageLengths), ("--batch", batch)].filter { $0.1 != nil }.map(\.0)
    }

    /// Whether any single-batch input option was given.
    var isEmpty: Bool { [text, images, textLengths, textMask, imageLengths, batch].allSatisfy { $0 == nil } }

    /// The files, for the library to open.
    var files: InputFiles {
        var files = InputFiles(text: text, images: images, textLengths: textLengths, textMask: textMask,
                               imageLengths: imageLengths, batch: batch)
        files.oneSample = oneSample
        files.extraMembers = batchExtra
        return files
    }
}

extension InputFiles.ExtraMembers: ExpressibleByArgument {}
