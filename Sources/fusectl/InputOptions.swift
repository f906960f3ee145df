import ArgumentParser
import Fusion
import NpyIO

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
        if batch == nil && (text == nil || images == nil) {
            throw ValidationError("Missing inputs: give --text and --images, or --batch.")
        }
        if textLengths != nil && textMask != nil {
            throw ValidationError("Give at most one of --text-lengths and --text-mask.")
        }
    }

    /// Opens the inputs (memory-mapped where possible) and checks them against the model.
    func load(model: FusionModel) throws -> FusionInputs {
        let arrays = try batch.map(Self.bundle) ?? separateFiles()
        return try FusionInputs(
            text: arrays.text,
            images: arrays.images,
            textLengths: try arrays.textLengths?.intElements(),
            textMask: arrays.textMask,
            imageLengths: try arrays.imageLengths?.intElements(),
            model: model)
    }

    private struct Arrays {
        var text: NpyArray
        var images: NpyArray
        var textLengths: NpyArray?
        var textMask: NpyArray?
        var imageLengths: NpyArray?
    }

    private func separateFiles() throws -> Arrays {
        // validate() guarantees both are present.
        Arrays(
            text: try NpyFile.read(path: text!),
            images: try NpyFile.read(path: images!),
            textLengths: try textLengths.map { try NpyFile.read(path: $0) },
            textMask: try textMask.map { try NpyFile.read(path: $0) },
            imageLengths: try imageLengths.map { try NpyFile.read(path: $0) })
    }

    private static func bundle(path: String) throws -> Arrays {
        let archive = try NpzArchive(path: path)
        let known = ["text", "images", "text_lengths", "text_mask", "image_lengths"]
        if let unknown = archive.memberNames.first(where: { !known.contains($0) }) {
            throw BundleError(path: path, message: "unknown member '\(unknown)' (expected \(known.joined(separator: ", ")))")
        }
        func member(_ name: String) throws -> NpyArray? {
            archive.contains(name) ? try archive.array(named: name) : nil
        }
        guard let text = try member("text") else { throw BundleError(path: path, message: "member 'text' is missing") }
        guard let images = try member("images") else { throw BundleError(path: path, message: "member 'images' is missing") }
        let arrays = Arrays(text: text, images: images, textLengths: try member("text_lengths"),
                            textMask: try member("text_mask"), imageLengths: try member("image_lengths"))
        if arrays.textLengths != nil && arrays.textMask != nil {
            throw BundleError(path: path, message: "has both 'text_lengths' and 'text_mask'; keep one")
        }
        return arrays
    }
}

struct BundleError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { "\(path == "-" ? "<stdin>" : path): \(message)" }
}
