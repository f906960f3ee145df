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
    /// - Throws: `JobError` for a missing or unknown bundle member, a combination docs/model.md does not
    ///   allow, latents that are not floating point, lengths that are not integers of shape (B,), or an
    ///   archive of several arrays where one was expected; `NpyError` for unreadable files; `FusionError` for inputs that contradict the model
    ///   or each other (batch sizes, latent sizes, lengths out of range, a mask row without a token).
    public func load(model: FusionModel) throws -> FusionInputs {
        let arrays = try batch.map(Self.bundle) ?? separateFiles()
        try Self.checkLatents(arrays.text, input: "text")
        try Self.checkLatents(arrays.images, input: "images")
        try arrays.textLengths.map { try Self.checkLengths($0, input: "text_lengths") }
        try arrays.imageLengths.map { try Self.checkLengths($0, input: "image_lengths") }
        return try FusionInputs(
            text: arrays.text,
            images: arrays.images,
            textLengths: try arrays.textLengths?.intElements(),
            textMask: arrays.textMask,
            imageLengths: try arrays.imageLengths?.intElements(),
            model: model)
    }

    /// Latents are floating point (float16, float32 or float64): integers would be read as numbers
    /// silently, which is almost always a file mix-up (a mask or lengths given as latents).
    public static func checkLatents(_ array: NpyArray, input: String) throws {
        guard array.dtype.isFloatingPoint else {
            throw JobError.inputs(
                "\(input) (\(array.origin)): expected floating-point latents (float16, float32 or float64), "
                    + "found \(array.dtype) \(shapeText(array.shape))")
        }
    }

    /// Lengths are integers (not bool: True would read as length 1) of shape (B,).
    private static func checkLengths(_ array: NpyArray, input: String) throws {
        guard array.dtype.isInteger, array.shape.count == 1 else {
            throw JobError.inputs(
                "\(input) (\(array.origin)): expected integers of shape (B,), found \(array.dtype) \(shapeText(array.shape))")
        }
    }

    /// A .npy file, or the one array of a single-member .npz archive given where a .npy was expected.
    ///
    /// - Throws: `JobError.inputs` for an archive of several members (naming them); `NpyError` for
    ///   everything that cannot be read.
    public static func readArray(path: String) throws -> NpyArray {
        switch try openNumpyFile(path: path) {
        case .npy(let array):
            return array
        case .npz(let archive):
            let names = archive.memberNames
            guard names.count == 1 else {
                throw JobError.inputs(
                    "\(path == "-" ? "<stdin>" : path): is a .npz archive of \(names.count) members "
                        + "(\(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : "")) where one array "
                        + "(a .npy, or a .npz of one member) was expected; a bundle of a batch's arrays goes to --batch")
            }
            return try archive.array(named: names[0])
        }
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
            text: try Self.readArray(path: text),
            images: try Self.readArray(path: images),
            textLengths: try textLengths.map { try Self.readArray(path: $0) },
            textMask: try textMask.map { try Self.readArray(path: $0) },
            imageLengths: try imageLengths.map { try Self.readArray(path: $0) })
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
