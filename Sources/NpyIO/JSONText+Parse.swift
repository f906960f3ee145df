extension JSONText {
    /// Parses `text` as strict JSON (RFC 8259: no comments, no trailing commas, standard escapes,
    /// nesting at most 64 deep), one value followed only by whitespace.
    ///
    /// - Throws: ``JSONTextError`` with the byte offset where the text stops being JSON.
    public static func parse(_ text: String) throws -> JSONText {
        var utf8 = text
        return try utf8.withUTF8 { bytes in
            do {
                return try JSONTextParser.parse(UnsafeRawBufferPointer(bytes))
            } catch let failure as JSONTextParser.Failure {
                throw JSONTextError(position: failure.position, message: failure.message)
            }
        }
    }
}

/// Text that is not strict JSON: where (byte offset) and why.
public struct JSONTextError: Error, Equatable, CustomStringConvertible {
    public var position: Int
    public var message: String
    public var description: String { "at byte \(position): \(message)" }
}
