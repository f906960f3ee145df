/// The one error type of NpyIO.
///
/// Its `description` reads `FILE[ member 'NAME'][ at byte OFFSET]: MESSAGE`, where the message
/// says what was expected and what was found, e.g.
/// `w.npz member 'x' at byte 8: unsupported format version: expected 1.0, 2.0 or 3.0, found 4.0`.
/// Offsets count from the start of the .npy data (for an .npz member: from the member's first byte).
public struct NpyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path as the caller gave it, `<stdin>`, `<stdout>` or `<memory>`.
    public var file: String
    /// The .npz member (name as stored in the archive), if any.
    public var member: String?
    /// The byte offset of the offending field, when one applies.
    public var offset: Int?
    /// What was expected and what was found.
    public var message: String

    /// Creates an error; see the type's documentation for how the parts are printed.
    public init(file: String, member: String? = nil, offset: Int? = nil, message: String) {
        self.file = file
        self.member = member
        self.offset = offset
        self.message = message
    }

    public var description: String {
        var text = file
        if let member { text += " member '\(member)'" }
        if let offset { text += " at byte \(offset)" }
        return text + ": " + message
    }
}

/// Where bytes come from, for error messages: a file and optionally an .npz member.
struct ErrorContext: Sendable {
    var file: String
    var member: String?

    /// The name arrays read from here carry: `file` or `file:member`.
    var origin: String { member.map { "\(file):\($0)" } ?? file }

    func error(at offset: Int? = nil, _ message: String) -> NpyError {
        NpyError(file: file, member: member, offset: offset, message: message)
    }
}
