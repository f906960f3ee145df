import NpyIO

/// A parsed JSON value that keeps `true` apart from `1` and `1` apart from `1.5`,
/// so that configuration values are type-checked exactly.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Converts strict JSON (NpyIO's parser) into a value; numbers whose value is an integer that fits
    /// in `Int` (`2`, and as Foundation's decoder read them, `2.0` and `1e2`) become ``integer(_:)``,
    /// other numbers ``number(_:)``.
    /// - Throws: ``DuplicateKey`` for an object that names a key twice.
    init(_ json: JSONText) throws {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .string(let text): self = .string(text)
        case let .number(text, integer):
            if let integer {
                self = .integer(integer)
            } else if let value = Double(text), value.rounded() == value, abs(value) < 0x1p63 {
                self = .integer(Int(value))
            } else {
                self = .number(Double(text) ?? .nan)
            }
        case .array(let items): self = .array(try items.map(JSONValue.init))
        case .object(let members):
            var dictionary: [String: JSONValue] = [:]
            for member in members {
                guard dictionary[member.key] == nil else { throw DuplicateKey(key: member.key) }
                dictionary[member.key] = try JSONValue(member.value)
            }
            self = .object(dictionary)
        }
    }

    /// An object that names `key` twice.
    struct DuplicateKey: Error {
        var key: String
    }

    /// The value as a number (integers widened), or nil for other kinds.
    var number: Double? {
        switch self {
        case .integer(let integer): return Double(integer)
        case .number(let number): return number
        default: return nil
        }
    }

    /// What kind of value this is, for messages: "a string", "an array", ….
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value written back as short JSON-like text, for messages: `"swish"`, `2.5`, `true`, `[…]`.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return String(flag)
        case .integer(let integer): return String(integer)
        case .number(let number): return "\(number)"
        case .string(let text): return "\"\(text)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
