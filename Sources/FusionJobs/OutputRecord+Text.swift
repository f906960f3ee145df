import Fusion

/// The stored form of a record: JSON in a fixed layout that fusectl writes and reads back fast.
///
/// ```
/// {"format": "fusectl output record 1",
///  "file": {"role": "fused", "bytes": 896, "modified_ns": 1796691937108911523, "crc32": "ef8a8738", "members": null},
///  "made": {"fusectl": "0.13.0", "weights": {...}, "config": "...", "inputs": [...], ...}}
/// ```
///
/// Any JSON reader reads it (it is one object); a resumed run reads it without a JSON decoder: it
/// compares the `made` line with the one this run would write, character for character, and reads
/// the `file` line's five fields. A record in any other layout (written by hand, pretty-printed by a
/// tool) still works through the slower general path (`OutputRecord.read(for:)`).
extension OutputRecord {
    /// The record as the three lines stored on disk (with a final newline).
    var storedText: String {
        "{\"format\": \(jsonString(format)),\n \"file\": \(file.jsonText),\n \"made\": \(made.jsonText)}\n"
    }

    /// The record beside `output` when it is in the stored layout: its `file` fields and its `made`
    /// line as text; nil when there is no record, or it is in another layout (then use `read(for:)`).
    static func readStored(for output: String) -> (file: File, madeText: ArraySlice<UInt8>)? {
        guard let bytes = readSmallFile(Self.path(for: output)) else { return nil }
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(bytes[start..<end])
            start = end + 1
        }
        guard lines.count == 3, start == bytes.endIndex, lines[0].elementsEqual(Self.storedFormatLine),
              lines[1].starts(with: Self.storedFileKey), lines[1].last == UInt8(ascii: ","),
              lines[2].starts(with: Self.storedMadeKey), lines[2].last == UInt8(ascii: "}"),
              let file = File(jsonText: Substring(decoding: lines[1].dropFirst(Self.storedFileKey.count).dropLast(), as: UTF8.self))
        else { return nil }
        return (file, lines[2].dropFirst(Self.storedMadeKey.count).dropLast())
    }

    private static let storedFormatLine = Array("{\"format\": \(jsonString(formatName)),".utf8)
    private static let storedFileKey = Array(" \"file\": ".utf8)
    private static let storedMadeKey = Array(" \"made\": ".utf8)
}

extension OutputRecord.File {
    /// One line of JSON, keys in a fixed order.
    var jsonText: String {
        let names = members.map { "[" + $0.map(jsonString).joined(separator: ", ") + "]" } ?? "null"
        return "{\"role\": \(jsonString(role)), \"bytes\": \(bytes), \"modified_ns\": \(modifiedNanoseconds), "
            + "\"crc32\": \(jsonString(crc32)), \"members\": \(names)}"
    }

    /// Reads `jsonText`'s exact layout back (member names and the role hold no quote or backslash, as
    /// fusectl writes them); nil for anything else.
    init?(jsonText text: Substring) {
        func field(_ name: String, in rest: inout Substring) -> Substring? {
            let key = "\"\(name)\": "
            guard rest.hasPrefix(key) else { return nil }
            rest = rest.dropFirst(key.count)
            var depth = 0
            var inString = false
            var end = rest.startIndex
            while end < rest.endIndex {
                let c = rest[end]
                if c == "\"" { inString.toggle() }
                if !inString {
                    if c == "[" { depth += 1 }
                    if c == "]" { depth -= 1 }
                    if depth == 0 && c == "," { break }
                }
                end = rest.index(after: end)
            }
            let value = rest[..<end]
            rest = rest[end...]
            if rest.hasPrefix(", ") { rest = rest.dropFirst(2) }
            return value
        }
        func unquoted(_ value: Substring?) -> String? {
            guard let value, value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else { return nil }
            let inner = value.dropFirst().dropLast()
            return inner.contains("\"") || inner.contains("\\") ? nil : String(inner)
        }
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return nil }
        var rest = text.dropFirst().dropLast()
        guard let role = unquoted(field("role", in: &rest)),
              let bytes = field("bytes", in: &rest).flatMap({ Int($0) }),
              let modified = field("modified_ns", in: &rest).flatMap({ Int64($0) }),
              let crc = unquoted(field("crc32", in: &rest)),
              let membersText = field("members", in: &rest), rest.isEmpty
        else { return nil }
        var members: [String]?
        if membersText != "null" {
            guard membersText.hasPrefix("["), membersText.hasSuffix("]") else { return nil }
            let inner = membersText.dropFirst().dropLast()
            var names: [String] = []
            for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
                guard let name = unquoted(part.drop(while: { $0 == " " })) else { return nil }
                names.append(name)
            }
            members = inner.isEmpty ? [] : names
        }
        self.init(role: role, bytes: bytes, modifiedNanoseconds: modified, crc32: crc, members: members)
    }
}

extension Provenance {
    /// One line of JSON, keys in a fixed order; equal provenances give equal text, so a resumed run
    /// compares records by this text.
    public var jsonText: String {
        let inputs = self.inputs.map { input in
            "{\"role\": \(jsonString(input.role)), \"path\": \(jsonString(input.path)), \"bytes\": \(input.bytes), "
                + "\"modified_ns\": \(input.modifiedNanoseconds)}"
        }
        return "{\"fusectl\": \(jsonString(fusectl)), "
            + "\"weights\": {\"fingerprint\": \(jsonString(weights.fingerprint)), \"prefix\": \(jsonString(weights.prefix)), "
            + "\"file\": \(jsonString(weights.file))}, "
            + "\"config\": \(jsonString(config)), "
            + "\"inputs\": [" + inputs.joined(separator: ", ") + "], "
            + "\"mode\": \(jsonString(mode)), \"window\": \(window.map(String.init) ?? "null"), "
            + "\"one_sample\": \(oneSample), \"out_dtype\": \(jsonString(outputDType)), "
            + "\"plan\": \(jsonString(plan)), \"attention\": \(attention)}"
    }
}

/// `text` as a JSON string literal: quotes, backslashes and control characters escaped, everything
/// else (UTF-8 included) as it is.
func jsonString(_ text: String) -> String {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    out.reserveCapacity(text.utf8.count + 2)
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
        case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0..<0x20:
            let digits = Array("0123456789abcdef".utf8)
            out += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 15)]]
        default: out.append(byte)  // UTF-8 sequences pass through whole
        }
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a small regular file (up to 16 MiB), or nil when it cannot be read.
func readSmallFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 16 << 20 else { return nil }
    let size = Int(info.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    var filled = 0
    while filled < size {
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, size - filled) }
        if count < 0 { if errno == EINTR { continue }; return nil }
        if count == 0 { break }
        filled += count
    }
    return filled == size ? bytes : nil
}
