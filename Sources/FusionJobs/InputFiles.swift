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
    /// Each file holds one sample, without a batch axis: text (L, txt) or (txt,), images (T, img) or
    /// (T, P, img), text_mask (L,), lengths a scalar () or (1,) — what an encoder writes per episode.
    /// Off: the first axis of every file is the batch (docs/model.md, "Inputs").
    public var oneSample = false
    /// What a bundle's members other than ``bundleMembers`` are: an error (the default, so that a
    /// misspelt member is caught) or left aside unread (metadata such as `episode_id`).
    public var extraMembers: ExtraMembers = .refuse

    /// How a bundle's unknown members are treated.
    public enum ExtraMembers: String, Sendable, CaseIterable {
        /// An unknown member is an error.
        case refuse
        /// Unknown members are left aside — except one that looks like a misspelt known member
        /// (within two edits of its name), which is still an error.
        case ignore
    }

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
    ///   Every message about an input names its file (`text (t.npy): ...`); a shape that would be right
    ///   with (or without) ``oneSample`` says so.
    public func load(model: FusionModel) throws -> FusionInputs {
        var arrays = try batch.map { try Self.bundle(path: $0, extra: extraMembers) } ?? separateFiles()
        try Self.checkLatents(arrays.text, input: "text")
        try Self.checkLatents(arrays.images, input: "images")
        try arrays.textLengths.map { try Self.checkLengths($0, input: "text_lengths", oneSample: oneSample) }
        try arrays.imageLengths.map { try Self.checkLengths($0, input: "image_lengths", oneSample: oneSample) }
        if oneSample {
            arrays = try Self.oneSample(arrays, config: model.config)
        } else {
            try Self.checkBatchShapes(arrays, config: model.config)
        }
        do {
            var inputs = try FusionInputs(
                text: arrays.text,
                images: arrays.images,
                textLengths: try arrays.textLengths?.intElements(),
                textMask: arrays.textMask,
                imageLengths: try arrays.imageLengths?.intElements(),
                model: model)
            for input in Self.bundleMembers {
                inputs.origins[input] = arrays.origin(of: input)
            }
            return inputs
        } catch FusionError.invalidInput(let input, let sample, let detail) {
            let origin = arrays.origin(of: input).map { " (\($0))" } ?? ""
            throw FusionError.invalidInput(input: input + origin, sample: sample, detail: detail)
        }
    }

    /// The arrays of one sample given a batch axis of 1, after checking each rank.
    private static func oneSample(_ arrays: Arrays, config: FusionConfig) throws -> Arrays {
        let txt = config.txtLatentDim, img = config.imgLatentDim
        func refuse(_ input: String, _ array: NpyArray, _ expected: String) -> JobError {
            .inputs("\(input) (\(array.origin)): with --one-sample a file holds one sample: expected \(expected), "
                + "found \(shapeText(array.shape)); without --one-sample its first axis is the batch")
        }
        guard (1...2).contains(arrays.text.rank) else {
            throw refuse("text", arrays.text, "(L, \(txt)) token latents or (\(txt),) pooled")
        }
        guard (2...3).contains(arrays.images.rank) else {
            throw refuse("images", arrays.images, "(T, \(img)) or (T, P, \(img))")
        }
        if let mask = arrays.textMask, mask.rank != 1 {
            throw refuse("text_mask", mask, "(L,)")
        }
        return Arrays(text: arrays.text.withLeadingAxis(), images: arrays.images.withLeadingAxis(),
                      textLengths: arrays.textLengths, textMask: arrays.textMask?.withLeadingAxis(),
                      imageLengths: arrays.imageLengths)
    }

    /// Batch inputs whose ranks or batch sizes disagree, named with both files and, where the files
    /// look like one sample each, the option that reads them so.
    private static func checkBatchShapes(_ arrays: Arrays, config: FusionConfig) throws {
        let img = config.imgLatentDim
        let (text, images) = (arrays.text, arrays.images)
        if images.rank == 2 && images.shape.last == img {
            throw JobError.inputs(
                "images (\(images.origin)): expected shape (B, T, \(img)) or (B, T, P, \(img)), found \(shapeText(images.shape)); "
                    + "for a file of one episode's frames, (T, \(img)), with its text (\(text.origin)) as one sample, pass --one-sample")
        }
        guard (2...3).contains(text.rank), (3...4).contains(images.rank), text.shape[0] != images.shape[0] else { return }
        var message = "text (\(text.origin)) holds \(text.shape[0]) samples, \(shapeText(text.shape)), but images "
            + "(\(images.origin)) hold \(images.shape[0]), \(shapeText(images.shape)): the first axis of both is the batch"
        if text.rank == 2 {
            message += "; a 2-D text is (B, txt) pooled vectors: for one instruction of \(text.shape[0]) tokens, "
                + "(L, txt), with one episode's frames, pass --one-sample"
        }
        throw JobError.inputs(message)
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

    /// Lengths are integers (not bool: True would read as length 1) of shape (B,), or () or (1,) for one sample.
    private static func checkLengths(_ array: NpyArray, input: String, oneSample: Bool) throws {
        let shapeOK = oneSample ? (array.shape == [] || array.shape == [1]) : array.shape.count == 1
        guard array.dtype.isInteger, shapeOK else {
            throw JobError.inputs(
                "\(input) (\(array.origin)): expected integers of shape \(oneSample ? "() or (1,) (one sample)" : "(B,)"), "
                    + "found \(array.dtype) \(shapeText(array.shape))")
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

        /// The file (or bundle member) of the input named as FusionError names it.
        func origin(of input: String) -> String? {
            switch input {
            case "text": return text.origin
            case "images": return images.origin
            case "text_lengths": return textLengths?.origin
            case "text_mask": return textMask?.origin
            case "image_lengths": return imageLengths?.origin
            default: return nil
            }
        }
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

    private static func bundle(path: String, extra: ExtraMembers) throws -> Arrays {
        let archive = try NpzArchive(path: path)
        let name = path == "-" ? "<stdin>" : path
        for unknown in archive.memberNames where !bundleMembers.contains(unknown) {
            let near = bundleMembers.first { editDistance($0, unknown) <= 2 }
            switch (extra, near) {
            case (.ignore, nil):
                continue
            case (.ignore, let near?):
                throw JobError.bundle(path: name, "unknown member '\(unknown)' looks like a misspelt '\(near)' "
                    + "(--batch-extra ignore leaves aside only members that resemble none of \(bundleMembers.joined(separator: ", ")))")
            case (.refuse, _):
                throw JobError.bundle(path: name, "unknown member '\(unknown)' (expected \(bundleMembers.joined(separator: ", "))"
                    + (near.map { "; '\($0)' misspelt?" } ?? "; to leave other members aside, pass --batch-extra ignore") + ")")
            }
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

/// The Levenshtein distance between two short names (insertions, deletions and substitutions).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
