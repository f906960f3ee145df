/// A value of strict JSON (RFC 8259), as a safetensors header holds it. Objects keep their members in
/// order, duplicates included, so that the reader can refuse duplicate names. Public for the
/// configuration reader of `Fusion` (``JSONText/parse(_:)``).
public enum JSONText: Equatable {
    case object([(key: String, value: JSONText)])
    case array([JSONText])
    case string(String)
    /// A number; `integer` is its value when it is written as an integer that fits in `Int`.
    case number(text: String, integer: Int?)
    case bool(Bool)
    case null

    public static func == (lhs: JSONText, rhs: JSONText) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.number(a, _), .number(b, _)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// What kind of value this is, for messages: "an object", "a string", ….
    var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// Short text of the value for messages: strings quoted, numbers as written, containers elided.
    var brief: String {
        switch self {
        case .object: return "{…}"
        case .array(let items): return items.count <= 4 ? "[" + items.map(\.brief).joined(separator: ", ") + "]" : "[…]"
        case .string(let text): return "\"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
        case .number(let text, _): return text
        case .bool(let flag): return String(flag)
        case .null: return "null"
        }
    }
}

/// Parses strict JSON from UTF-8 bytes: no comments, no trailing commas, strings with the standard
/// escapes (surrogate pairs joined; lone surrogates refused), nesting at most 64 deep. Throws
/// `JSONTextParser.Failure` with the byte position (relative to the text) and a message.
struct JSONTextParser {
    struct Failure: Error, Equatable {
        var position: Int
        var message: String
    }

    private let text: UnsafeRawBufferPointer
    private var position = 0
    private var depth = 0

    private init(text: UnsafeRawBufferPointer) {
        self.text = text
    }

    /// Parses `text` as one JSON value followed only by whitespace.
    static func parse(_ text: UnsafeRawBufferPointer) throws -> JSONText {
        var parser = JSONTextParser(text: text)
        let value = try parser.parseValue()
        parser.skipSpace()
        if parser.position < text.count {
            throw Failure(position: parser.position, message: "expected the end of the JSON text, found \(parser.describeHere())")
        }
        return value
    }

    private func describeHere() -> String {
        guard position < text.count else { return "the end of the text" }
        let end = min(text.count, position + 12)
        let snippet = String(decoding: text[position..<end], as: UTF8.self)
        return "'\(snippet.unicodeScalars.map { $0.isASCII && $0.value >= 32 ? String($0) : $0.escaped(asASCII: true) }.joined())'"
    }

    private mutating func skipSpace() {
        while position < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[position]) { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipSpace()
        guard position < text.count, text[position] == byte else {
            throw Failure(position: position, message: "expected \(what), found \(describeHere())")
        }
        position += 1
    }

    private mutating func parseValue() throws -> JSONText {
        skipSpace()
        guard position < text.count else {
            throw Failure(position: position, message: "expected a value, found the end of the text")
        }
        switch text[position] {
        case UInt8(ascii: "{"):
            return try nested { parser in
                var members: [(key: String, value: JSONText)] = []
                parser.skipSpace()
                if parser.position < parser.text.count, parser.text[parser.position] == UInt8(ascii: "}") {
                    parser.position += 1
                    return .object(members)
                }
                while true {
                    parser.skipSpace()
                    guard parser.position < parser.text.count, parser.text[parser.position] == UInt8(ascii: "\"") else {
                        throw Failure(position: parser.position, message: "expected a member name in double quotes, found \(parser.describeHere())")
                    }
                    let key = try parser.parseString()
                    try parser.expect(UInt8(ascii: ":"), "':' after a member name")
                    members.append((key, try parser.parseValue()))
                    parser.skipSpace()
                    if parser.position < parser.text.count, parser.text[parser.position] == UInt8(ascii: ",") {
                        parser.position += 1
                        continue
                    }
                    try parser.expect(UInt8(ascii: "}"), "',' or '}' in an object")
                    return .object(members)
                }
            }
        case UInt8(ascii: "["):
            return try nested { parser in
                var items: [JSONText] = []
                parser.skipSpace()
                if parser.position < parser.text.count, parser.text[parser.position] == UInt8(ascii: "]") {
                    parser.position += 1
                    return .array(items)
                }
                while true {
                    items.append(try parser.parseValue())
                    parser.skipSpace()
                    if parser.position < parser.text.count, parser.text[parser.position] == UInt8(ascii: ",") {
                        parser.position += 1
                        continue
                    }
                    try parser.expect(UInt8(ascii: "]"), "',' or ']' in an array")
                    return .array(items)
                }
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            for (word, value) in [("true", JSONText.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let bytes = Array(word.utf8)
                if position + bytes.count <= text.count, text[position..<(position + bytes.count)].elementsEqual(bytes) {
                    position += bytes.count
                    return value
                }
            }
            throw Failure(position: position, message: "expected a JSON value, found \(describeHere())")
        }
    }

    private mutating func nested(_ body: (inout JSONTextParser) throws -> JSONText) throws -> JSONText {
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw Failure(position: position, message: "values nested deeper than 64 levels") }
        position += 1  // the opening bracket
        return try body(&self)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func parseNumber() throws -> JSONText {
        let start = position
        func digits() -> Int {
            let from = position
            while position < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[position]) { position += 1 }
            return position - from
        }
        if text[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        if integerDigits == 0 || (integerDigits > 1 && text[integerStart] == UInt8(ascii: "0")) {
            throw Failure(position: start, message: "malformed number \(String(decoding: text[start..<max(position, start + 1)], as: UTF8.self))")
        }
        var isInteger = true
        if position < text.count, text[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            if digits() == 0 { throw Failure(position: position, message: "expected digits after the decimal point") }
        }
        if position < text.count, text[position] == UInt8(ascii: "e") || text[position] == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if position < text.count, text[position] == UInt8(ascii: "+") || text[position] == UInt8(ascii: "-") { position += 1 }
            if digits() == 0 { throw Failure(position: position, message: "expected digits in the exponent") }
        }
        let written = String(decoding: text[start..<position], as: UTF8.self)
        return .number(text: written, integer: isInteger ? Int(written) : nil)
    }

    private mutating func parseString() throws -> String {
        position += 1  // the opening quote
        var bytes: [UInt8] = []
        while true {
            guard position < text.count else {
                throw Failure(position: position, message: "unterminated string")
            }
            let byte = text[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: bytes, as: UTF8.self) else {
                    throw Failure(position: position, message: "a string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                guard position < text.count else { throw Failure(position: position, message: "unterminated string") }
                let escape = text[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard position + 1 < text.count, text[position] == UInt8(ascii: "\\"), text[position + 1] == UInt8(ascii: "u") else {
                            throw Failure(position: position, message: "a high surrogate \\u escape without its low surrogate")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw Failure(position: position, message: "a high surrogate \\u escape without its low surrogate")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw Failure(position: position, message: "a lone low surrogate \\u escape")
                    }
                    bytes.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    throw Failure(position: position - 1, message: "invalid escape \\\(Character(Unicode.Scalar(escape)))")
                }
            case 0..<0x20:
                throw Failure(position: position - 1, message: "a control character inside a string")
            default:
                bytes.append(byte)
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard position + 4 <= text.count else { throw Failure(position: position, message: "a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = text[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Failure(position: position, message: "a \\u escape needs four hex digits")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }
}
