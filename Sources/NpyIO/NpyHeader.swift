/// The parsed header of a .npy file: format version, dtype, byte order, memory order and shape.
///
/// Layout (numpy's format spec): 6 magic bytes `\x93NUMPY`, major and minor version bytes, a
/// little-endian header length (UInt16 for 1.0, UInt32 for 2.0 and 3.0), then that many bytes of
/// a Python dict literal (latin-1; UTF-8 for 3.0) with exactly the keys `descr`, `fortran_order`,
/// `shape`; the data follows immediately.
public struct NpyHeader: Equatable, Sendable {
    /// The six magic bytes every .npy file starts with.
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// Bytes before the header text for format version `major` (10 for 1.0, 12 for 2.0/3.0).
    static func preambleLength(major: UInt8) -> Int { major == 1 ? 10 : 12 }

    /// Format major version: 1, 2 or 3 (minor is always 0).
    public var majorVersion: UInt8
    /// Element type named by `descr`.
    public var dtype: NpyDType
    /// Byte order from `descr` (`=` resolved to little; single-byte types `notApplicable`).
    public var byteOrder: NpyByteOrder
    /// `fortran_order`.
    public var isFortranOrder: Bool
    /// `shape`; every entry ≥ 0 and the byte count fits `Int` (checked by the parser).
    public var shape: [Int]
    /// Offset of the first data byte: preamble plus header text.
    public var dataOffset: Int

    /// Product of `shape` (1 for 0-d); cannot overflow for a parsed header.
    public var count: Int { NpyHeader.elementCount(shape) ?? Int.max }

    /// Checks the magic and version of the first 8 bytes (which the caller guarantees exist)
    /// and returns the major version.
    static func parseMagic(_ bytes: UnsafeRawBufferPointer, context: ErrorContext) throws -> UInt8 {
        precondition(bytes.count >= 8, "parseMagic needs 8 bytes, got \(bytes.count)")
        if !zip(bytes.prefix(6), magic).allSatisfy({ $0 == $1 }) {
            throw context.error(at: 0, "not a .npy file: expected the magic \\x93NUMPY, found \(escapedBytes(bytes.prefix(6)))")
        }
        let major = bytes[6], minor = bytes[7]
        guard (1...3).contains(major), minor == 0 else {
            throw context.error(at: 6, "unsupported format version: expected 1.0, 2.0 or 3.0, found \(major).\(minor)")
        }
        return major
    }

    /// Reads the header length field that follows the magic (the caller guarantees the preamble is present)
    /// and checks it against `limits`.
    static func parseHeaderLength(_ bytes: UnsafeRawBufferPointer, major: UInt8, limits: NpyLimits, context: ErrorContext) throws -> Int {
        let length = major == 1
            ? Int(UInt16(bytes[8]) | UInt16(bytes[9]) << 8)
            : Int(UInt32(bytes[8]) | UInt32(bytes[9]) << 8 | UInt32(bytes[10]) << 16 | UInt32(bytes[11]) << 24)
        if length > limits.maxHeaderLength {
            throw context.error(at: 8, "header length \(length) exceeds the limit of \(limits.maxHeaderLength) bytes (raise NpyLimits.maxHeaderLength to read it)")
        }
        return length
    }

    /// Parses the header at the start of `bytes` (the whole file, or at least the whole header).
    ///
    /// Throws `NpyError` for: fewer bytes than the preamble/header need ("truncated"), bad magic,
    /// unsupported version, a header longer than `limits.maxHeaderLength`, a malformed dict, wrong keys,
    /// a refused or unknown descr, a bad shape or fortran_order, or a size that overflows `Int`.
    static func parse(_ bytes: UnsafeRawBufferPointer, limits: NpyLimits, context: ErrorContext) throws -> NpyHeader {
        guard bytes.count >= 8 else {
            if bytes.isEmpty { throw context.error("truncated: expected a .npy file, found 0 bytes") }
            if !zip(bytes, magic).allSatisfy({ $0 == $1 }) {
                throw context.error(at: 0, "not a .npy file: expected the magic \\x93NUMPY, found \(escapedBytes(bytes.prefix(6)))")
            }
            throw context.error(at: bytes.count, "truncated: expected at least 10 bytes of .npy preamble, found \(bytes.count)")
        }
        let major = try parseMagic(bytes, context: context)
        let preamble = preambleLength(major: major)
        guard bytes.count >= preamble else {
            throw context.error(at: bytes.count, "truncated: format \(major).0 needs a \(preamble)-byte preamble, found \(bytes.count) bytes")
        }
        let length = try parseHeaderLength(bytes, major: major, limits: limits, context: context)
        guard bytes.count - preamble >= length else {
            throw context.error(at: bytes.count, "truncated: the header length field says \(length) bytes of header text, found \(bytes.count - preamble)")
        }
        let text = Array(bytes[preamble..<preamble + length])
        return try parseText(text, major: major, textOffset: preamble, context: context)
    }

    /// Parses the header dict text (the bytes after the preamble).
    static func parseText(_ text: [UInt8], major: UInt8, textOffset: Int, context: ErrorContext) throws -> NpyHeader {
        let literal: PythonLiteral
        do {
            literal = try PythonLiteralParser.parse(text, isUTF8: major == 3)
        } catch let failure as PythonLiteralParser.Failure {
            throw context.error(at: textOffset + failure.position, "malformed header: \(failure.message)")
        }
        guard case .dict(let items) = literal else {
            throw context.error(at: textOffset, "malformed header: expected a dict, found \(literal.repr.prefix(80))")
        }
        var values: [String: PythonLiteral] = [:]
        for (key, value) in items {
            // Only str keys: numpy refuses bytes (b'descr') and other keys when it sorts them.
            guard case .string(let name) = key else {
                throw context.error(at: textOffset, "malformed header: expected str keys, found the key \(key.repr.prefix(40))")
            }
            guard ["descr", "fortran_order", "shape"].contains(name) else {
                throw context.error(at: textOffset, "malformed header: unexpected key '\(name)'; expected exactly 'descr', 'fortran_order', 'shape'")
            }
            guard values[name] == nil else {
                throw context.error(at: textOffset, "malformed header: the key '\(name)' appears twice")
            }
            values[name] = value
        }
        for name in ["descr", "fortran_order", "shape"] where values[name] == nil {
            throw context.error(at: textOffset, "malformed header: missing the key '\(name)'; expected exactly 'descr', 'fortran_order', 'shape'")
        }
        let (dtype, byteOrder) = try parseDescr(values["descr"]!, textOffset: textOffset, context: context)
        guard case .bool(let fortran) = values["fortran_order"]! else {
            throw context.error(at: textOffset, "malformed header: 'fortran_order' must be True or False, found \(values["fortran_order"]!.repr.prefix(40))")
        }
        let shape = try parseShape(values["shape"]!, textOffset: textOffset, context: context)
        let header = NpyHeader(majorVersion: major, dtype: dtype, byteOrder: byteOrder, isFortranOrder: fortran,
                               shape: shape, dataOffset: textOffset + text.count)
        _ = try header.dataByteCount(context: context)
        return header
    }

    private static func parseDescr(_ value: PythonLiteral, textOffset: Int, context: ErrorContext) throws -> (NpyDType, NpyByteOrder) {
        switch value {
        case .string(let descr):
            switch NpyDType.parse(descr: descr) {
            case .success(let parsed): return parsed
            case .failure(let problem): throw context.error(at: textOffset, problem.message(for: descr))
            }
        case .list:
            throw context.error(at: textOffset, "descr is a list: structured dtypes are not supported; expected a single typestr such as '<f4'")
        default:
            throw context.error(at: textOffset, "malformed header: 'descr' must be a string, found \(value.repr.prefix(40))")
        }
    }

    private static func parseShape(_ value: PythonLiteral, textOffset: Int, context: ErrorContext) throws -> [Int] {
        guard case .tuple(let items) = value else {
            throw context.error(at: textOffset, "malformed header: 'shape' must be a tuple of integers, found \(value.repr.prefix(60))")
        }
        return try items.enumerated().map { index, item in
            guard case .int(let dimension, let text) = item else {
                throw context.error(at: textOffset, "malformed header: 'shape' entry \(index) must be an integer, found \(item.repr.prefix(40))")
            }
            guard let dimension, dimension >= 0 else {
                throw context.error(at: textOffset, "bad shape: entry \(index) is \(text); expected an integer from 0 to \(Int.max)")
            }
            return dimension
        }
    }

    /// `count × itemSize`, the number of data bytes the header promises.
    ///
    /// Throws when the element count or the byte count overflows `Int`.
    func dataByteCount(context: ErrorContext) throws -> Int {
        let shapeText = NpyHeader.shapeRepr(shape)
        guard let count = NpyHeader.elementCount(shape) else {
            throw context.error(at: NpyHeader.preambleLength(major: majorVersion), "bad shape \(shapeText): the element count overflows a 64-bit integer")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        if overflow {
            throw context.error(at: NpyHeader.preambleLength(major: majorVersion), "bad shape \(shapeText): \(count) elements of \(dtype) overflow a 64-bit byte count")
        }
        return bytes
    }

    /// Product of `shape` with overflow checks; nil on overflow. A zero anywhere gives 0.
    static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(0) { return 0 }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Python's repr of a shape tuple: `()`, `(3,)`, `(2, 3)`.
    static func shapeRepr(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Printable form of raw bytes for messages, like Python's bytes repr without the b.
    static func escapedBytes<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        "'" + bytes.map { byte -> String in
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\") {
                return String(UnicodeScalar(byte))
            }
            let hex = String(byte, radix: 16)
            return "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }.joined() + "'"
    }
}

extension NpyHeader {
    /// The exact header bytes `np.save` writes for this dtype, order and shape, including the
    /// preamble, the spare space for the growth axis, the padding to a multiple of 64 and the final
    /// newline. Version 1.0 unless the header needs more than 65,535 bytes, then 2.0.
    ///
    /// numpy's rule (`_write_array_header`): keys sorted, `repr` of each value, then
    /// `21 - len(repr(shape[growth axis]))` spaces, then padding so that
    /// `(8 + length field + header + 1) % 64 == 0`, then `\n`.
    static func encode(dtype: NpyDType, byteOrder: NpyByteOrder, fortranOrder: Bool, shape: [Int]) -> [UInt8] {
        var text = "{'descr': '\(dtype.descr(byteOrder: byteOrder))', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeRepr(shape)), }"
        if !shape.isEmpty {
            let growth = shape[fortranOrder ? shape.count - 1 : 0]
            text += String(repeating: " ", count: max(0, 21 - String(growth).count))
        }
        let body = Array(text.utf8)
        for (major, fieldSize) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let unpadded = 8 + fieldSize + body.count + 1
            let padding = 64 - unpadded % 64  // numpy pads a full 64 when already aligned
            let headerLength = body.count + 1 + padding
            if fieldSize == 2 && headerLength > Int(UInt16.max) { continue }
            var out = magic + [major, 0]
            for shift in stride(from: 0, to: fieldSize * 8, by: 8) { out.append(UInt8(truncatingIfNeeded: headerLength >> shift)) }
            out += body
            out += [UInt8](repeating: UInt8(ascii: " "), count: padding)
            out.append(UInt8(ascii: "\n"))
            return out
        }
        preconditionFailure("a header of \(body.count) bytes does not fit a 32-bit length")
    }
}
