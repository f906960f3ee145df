/// A value of the Python-literal subset numpy writes in .npy headers.
enum PythonLiteral: Equatable {
    case dict([(key: PythonLiteral, value: PythonLiteral)])
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case string(String)
    /// A bytes literal (`b'...'`): numpy's header keys and descr must be str, so it is kept apart.
    case bytes(String)
    /// An integer; `nil` when it does not fit in `Int` (the text is kept for messages).
    case int(Int?, text: String)
    case float(String)
    case bool(Bool)
    case none

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case let (.dict(a), .dict(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)): return a == b
        case let (.string(a), .string(b)), let (.bytes(a), .bytes(b)): return a == b
        case let (.int(a, x), .int(b, y)): return a == b && x == y
        case let (.float(a), .float(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.none, .none): return true
        default: return false
        }
    }

    /// Python's `repr` of the value, for error messages.
    var repr: String {
        switch self {
        case .dict(let items): return "{" + items.map { "\($0.key.repr): \($0.value.repr)" }.joined(separator: ", ") + "}"
        case .tuple(let items): return items.count == 1 ? "(\(items[0].repr),)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
        case .list(let items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case .string(let text): return "'\(text)'"
        case .bytes(let text): return "b'\(text)'"
        case .int(_, let text): return text
        case .float(let text): return text
        case .bool(let value): return value ? "True" : "False"
        case .none: return "None"
        }
    }
}

/// Parses one Python literal (what `ast.literal_eval` accepts for dicts, tuples, lists, str, int,
/// float, True/False/None), as found in .npy headers: any whitespace, `#` comments, trailing commas,
/// strings quoted with ' or " (with the usual backslash escapes and an optional u/b prefix).
///
/// Throws `PythonLiteralParser.Failure` with the byte position (relative to the text) and a message.
struct PythonLiteralParser {
    struct Failure: Error, Equatable {
        var position: Int
        var message: String
    }

    private let text: [UInt8]
    private let isUTF8: Bool
    private var position = 0
    private var depth = 0

    /// `isUTF8`: the text is UTF-8 (format 3.0) rather than latin-1 (1.0, 2.0).
    init(text: [UInt8], isUTF8: Bool) {
        self.text = text
        self.isUTF8 = isUTF8
    }

    /// Parses the whole text as a single literal followed only by whitespace/comments.
    static func parse(_ text: [UInt8], isUTF8: Bool) throws -> PythonLiteral {
        var parser = PythonLiteralParser(text: text, isUTF8: isUTF8)
        let value = try parser.parseValue()
        parser.skipSpace()
        if parser.position < text.count {
            throw Failure(position: parser.position, message: "expected the end of the header after the dict, found \(parser.describeHere())")
        }
        return value
    }

    private func describeHere() -> String {
        guard position < text.count else { return "the end of the header" }
        let end = min(text.count, position + 12)
        let snippet = String(decoding: text[position..<end], as: UTF8.self)
        return "'\(snippet.unicodeScalars.map { $0.isASCII && $0.value >= 32 ? String($0) : $0.escaped(asASCII: true) }.joined())'"
    }

    private mutating func skipSpace() {
        while position < text.count {
            switch text[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                position += 1
            case UInt8(ascii: "#"):
                while position < text.count && text[position] != UInt8(ascii: "\n") { position += 1 }
            default:
                return
            }
        }
    }

    private mutating func parseValue() throws -> PythonLiteral {
        skipSpace()
        guard position < text.count else {
            throw Failure(position: position, message: "expected a value, found the end of the header")
        }
        let byte = text[position]
        switch byte {
        case UInt8(ascii: "{"): return try nested { try $0.parseDict() }
        case UInt8(ascii: "("): return try nested { try $0.parseParenthesised() }
        case UInt8(ascii: "["): return try nested { .list(try $0.parseSequence(closing: UInt8(ascii: "]"))) }
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
            return try parseNumber()
        default:
            let start = position
            while position < text.count, isIdentifierByte(text[position]) { position += 1 }
            let word = String(decoding: text[start..<position], as: UTF8.self)
            if position < text.count, text[position] == UInt8(ascii: "'") || text[position] == UInt8(ascii: "\""),
               ["u", "U", "b", "B"].contains(word) {
                let text = try parseString()
                return word.lowercased() == "b" ? .bytes(text) : .string(text)
            }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                position = start
                throw Failure(position: start, message: "expected a Python literal, found \(describeHere())")
            }
        }
    }

    private func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    private mutating func nested(_ body: (inout PythonLiteralParser) throws -> PythonLiteral) throws -> PythonLiteral {
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw Failure(position: position, message: "literals nested deeper than 64 levels") }
        position += 1  // the opening bracket
        return try body(&self)
    }

    private mutating func parseDict() throws -> PythonLiteral {
        var items: [(key: PythonLiteral, value: PythonLiteral)] = []
        while true {
            skipSpace()
            if position < text.count, text[position] == UInt8(ascii: "}") { position += 1; return .dict(items) }
            let key = try parseValue()
            skipSpace()
            guard position < text.count, text[position] == UInt8(ascii: ":") else {
                throw Failure(position: position, message: "expected ':' after the dict key \(key.repr), found \(describeHere())")
            }
            position += 1
            let value = try parseValue()
            items.append((key, value))
            skipSpace()
            guard position < text.count else { throw Failure(position: position, message: "expected ',' or '}', found the end of the header") }
            if text[position] == UInt8(ascii: ",") { position += 1; continue }
            if text[position] == UInt8(ascii: "}") { position += 1; return .dict(items) }
            throw Failure(position: position, message: "expected ',' or '}' in the dict, found \(describeHere())")
        }
    }

    /// `()` is the empty tuple, `(x)` is x, `(x,)` and `(x, y)` are tuples.
    private mutating func parseParenthesised() throws -> PythonLiteral {
        var items: [PythonLiteral] = []
        var sawComma = false
        while true {
            skipSpace()
            if position < text.count, text[position] == UInt8(ascii: ")") {
                position += 1
                if items.count == 1 && !sawComma { return items[0] }
                return .tuple(items)
            }
            items.append(try parseValue())
            skipSpace()
            guard position < text.count else { throw Failure(position: position, message: "expected ',' or ')', found the end of the header") }
            if text[position] == UInt8(ascii: ",") { position += 1; sawComma = true; continue }
            if text[position] != UInt8(ascii: ")") {
                throw Failure(position: position, message: "expected ',' or ')' in the tuple, found \(describeHere())")
            }
        }
    }

    private mutating func parseSequence(closing: UInt8) throws -> [PythonLiteral] {
        var items: [PythonLiteral] = []
        while true {
            skipSpace()
            if position < text.count, text[position] == closing { position += 1; return items }
            items.append(try parseValue())
            skipSpace()
            guard position < text.count else { throw Failure(position: position, message: "expected ',' or '\(Character(Unicode.Scalar(closing)))', found the end of the header") }
            if text[position] == UInt8(ascii: ",") { position += 1; continue }
            if text[position] != closing {
                throw Failure(position: position, message: "expected ',' or '\(Character(Unicode.Scalar(closing)))', found \(describeHere())")
            }
        }
    }

    private mutating func parseNumber() throws -> PythonLiteral {
        let start = position
        var negative = false
        while position < text.count, text[position] == UInt8(ascii: "-") || text[position] == UInt8(ascii: "+") {
            if text[position] == UInt8(ascii: "-") { negative.toggle() }
            position += 1
            skipSpace()
        }
        let digitsStart = position
        var isFloat = false
        while position < text.count {
            let byte = text[position]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") || byte == UInt8(ascii: "_") {
                position += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                isFloat = true
                position += 1
                if byte != UInt8(ascii: "."), position < text.count,
                   text[position] == UInt8(ascii: "-") || text[position] == UInt8(ascii: "+") { position += 1 }
            } else {
                break
            }
        }
        let literal = String(decoding: text[start..<position], as: UTF8.self)
        let digits = text[digitsStart..<position].filter { $0 != UInt8(ascii: "_") }
        guard !digits.isEmpty else {
            throw Failure(position: start, message: "expected a number, found \(describeHere())")
        }
        if isFloat { return .float(literal) }
        if digits.count > 1 && digits.first == UInt8(ascii: "0") && digits.contains(where: { $0 != UInt8(ascii: "0") }) {
            throw Failure(position: start, message: "integer '\(literal)' has a leading zero, which Python refuses")
        }
        var value = 0
        var fits = true
        for digit in digits {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            if o1 || o2 { fits = false; break }
            value = sum
        }
        return .int(fits ? (negative ? -value : value) : nil, text: literal)
    }

    private mutating func parseString() throws -> String {
        let start = position
        let quote = text[position]
        position += 1
        if position + 1 < text.count, text[position] == quote, text[position + 1] == quote {
            throw Failure(position: start, message: "triple-quoted strings are not supported in .npy headers")
        }
        var bytes: [UInt8] = []
        var scalars = String.UnicodeScalarView()
        func flush() {
            if isUTF8 {
                scalars.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
            } else {
                scalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
            }
            bytes.removeAll(keepingCapacity: true)
        }
        while true {
            guard position < text.count else {
                throw Failure(position: start, message: "string starting here is not closed before the end of the header")
            }
            let byte = text[position]
            if byte == quote { position += 1; break }
            if byte == UInt8(ascii: "\n") {
                throw Failure(position: position, message: "string starting at \(start) runs into the end of the line")
            }
            if byte != UInt8(ascii: "\\") {
                bytes.append(byte)
                position += 1
                continue
            }
            flush()
            position += 1
            guard position < text.count else { continue }
            let escape = text[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): scalars.append(Unicode.Scalar(escape))
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "0"): scalars.append("\0")
            case UInt8(ascii: "\n"): break
            case UInt8(ascii: "x"): scalars.append(try hexScalar(digits: 2))
            case UInt8(ascii: "u"): scalars.append(try hexScalar(digits: 4))
            case UInt8(ascii: "U"): scalars.append(try hexScalar(digits: 8))
            default:
                scalars.append("\\")
                position -= 1
            }
        }
        flush()
        return String(scalars)
    }

    private mutating func hexScalar(digits: Int) throws -> Unicode.Scalar {
        let start = position
        guard position + digits <= text.count,
              let value = UInt32(String(decoding: text[position..<position + digits], as: UTF8.self), radix: 16),
              let scalar = Unicode.Scalar(value)
        else { throw Failure(position: start, message: "invalid \(digits)-digit escape in a string") }
        position += digits
        return scalar
    }
}
