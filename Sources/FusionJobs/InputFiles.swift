import Fusion
import NpyIO

/// Where one batch's inputs live: separate .npy files or one bundle .npz (`batch`).
///
/// Paths may be "-" (standard input; at most one per batch — checked by the caller that knows
/// which other options read stdin). Opening memory-maps what it can; nothing is read in full until
/// the forward pass asks for it.
public struct InputFiles: Sendable, Equatable {
    public var text: String?
    public var images: String?
    public var textLengths: String?
    public var textMask: String?
    public var imageLengths: String?
    /// A bundle .npz with members `text`, `images`, `text_lengths`, `text_mask`, `image_lengths`.
    public var batch: String?

    public init(text: String? = nil, images: String? = nil, textLengths: String? = nil, textMask: String? = nil,
                imageLengths: String? = nil, batch: String? = nil) {
        self.text = text
        self.images = images
        self.textLengths = textLengths
        self.textMask = textMask
        self.imageLengths = imageLengths
        self.batch = batch
    }

    /// The members a bundle may hold.
    public static let bundleMembers = ["text", "images", "text_lengths", "text_mask", "image_lengths"]

    /// Opens the files and checks them against `model`.
    ///
    /// - Throws: `JobError` for a missing or unknown bundle member or a combination docs/model.md does not
    ///   allow; `NpyError` for unreadable files; `FusionError` for inputs that contradict the model
    ///   or each other (batch sizes, latent sizes, lengths out of range, a mask row without a token).
    public func load(model: FusionModel) throws -> FusionInputs {
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
        guard let text, let images else {
            throw JobError.inputs("give both a text and an images file, or a bundle")
        }
        if textLengths != nil && textMask != nil {
            throw JobError.inputs("give at most one of text lengths and text mask")
        }
        return Arrays(
            text: try NpyFile.read(path: text),
            images: try NpyFile.read(path: images),
            textLengths: try textLengths.map { try NpyFile.read(path: $0) },
            textMask: try textMask.map { try NpyFile.read(path: $0) },
            imageLengths: try imageLengths.map { try NpyFile.read(path: $0) })
    }

    private static func bundle(path: String) throws -> Arrays {
        let archive = try NpzArchive(path: path)
        let name = path == "-" ? "<stdin>" : path
        if let unknown = archive.memberNames.first(where: { !bundleMembers.contains($0) }) {
            throw JobError.bundle(path: name, "unknown member '\(unknown)' (expected \(bundleMembers.joined(separator: ", ")))")
        }
        func member(_ member: String) throws -> NpyArray? {
            archive.contains(member) ? try archive.array(named: member) : nil
        }
        guard let text = try member("text") else { throw JobError.bundle(path: name, "member 'text' is missing") }
        guard let images = try member("images") else { throw JobError.bundle(path: name, "member 'images' is missing") }
        let arrays = Arrays(text: text, images: images, textLengths: try member("text_lengths"),
                            textMask: try member("text_mask"), imageLengths: try member("image_lengths"))
        if arrays.textLengths != nil && arrays.textMask != nil {
            throw JobError.bundle(path: name, "has both 'text_lengths' and 'text_mask'; keep one")
        }
        return arrays
    }
}
