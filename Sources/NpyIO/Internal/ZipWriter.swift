/// Writes a zip archive member by member through a byte sink, tracking offsets, and finishes with
/// the central directory. ZIP64 fields are used exactly where a size or offset needs them (≥ 0xFFFFFFFF)
/// and a ZIP64 end record when the directory's offset, size or entry count needs it.
///
/// All timestamps are 1980-01-01 00:00 so that output is reproducible.
struct ZipWriter {
    typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    private struct Written {
        var name: [UInt8]
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var offset: Int
    }

    private let sink: Sink
    private var offset = 0
    private var written: [Written] = []

    init(sink: @escaping Sink) { self.sink = sink }

    private mutating func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sink($0) }
        offset += bytes.count
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink(bytes)
        offset += bytes.count
    }

    private static func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)] }
    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    private static func le64(_ value: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: UInt64(value) >> ($0 * 8)) } }
    private static func clamp32(_ value: Int) -> UInt32 { value >= 0xFFFF_FFFF ? 0xFFFF_FFFF : UInt32(value) }

    /// The extra-field id zipalign uses for alignment padding (Android's `ZipAlign`): the field holds
    /// the alignment as a little-endian UInt16, then zero bytes. Readers skip unknown extra fields.
    static let alignmentExtraID = 0xD935

    /// Adds one member whose (already compressed, for method 8) data is `data`.
    ///
    /// - Parameter align: when given, the local header gets an alignment extra field (only there; the
    ///   central directory's entry has none, as with zipalign) sized so that byte `after` of the
    ///   member's data lies at a file offset that is a multiple of `multiple` (1…32768).
    mutating func addMember(name: String, method: UInt16, crc: UInt32, uncompressedSize: Int, data: [UnsafeRawBufferPointer],
                            align: (multiple: Int, after: Int)? = nil) throws {
        let compressedSize = data.reduce(0) { $0 + $1.count }
        let nameBytes = Array(name.utf8)
        let needsZip64 = compressedSize >= 0xFFFF_FFFF || uncompressedSize >= 0xFFFF_FFFF
        let flags = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
        var extra = needsZip64 ? ZipWriter.le16(1) + ZipWriter.le16(16) + ZipWriter.le64(uncompressedSize) + ZipWriter.le64(compressedSize) : []
        if let align {
            precondition((1...32768).contains(align.multiple) && align.after >= 0,
                         "ZipWriter: alignment \(align.multiple) after \(align.after) bytes")
            let unpadded = offset + 30 + nameBytes.count + extra.count + align.after
            var padding = (align.multiple - unpadded % align.multiple) % align.multiple
            while padding < 6 { padding += align.multiple }  // the field's own 4-byte head and UInt16
            extra += ZipWriter.le16(ZipWriter.alignmentExtraID) + ZipWriter.le16(padding - 4) + ZipWriter.le16(align.multiple)
            extra += [UInt8](repeating: 0, count: padding - 6)
        }
        var header = ZipWriter.le32(ZipDirectory.localSignature)
        header += ZipWriter.le16(needsZip64 ? 45 : 20) + ZipWriter.le16(flags) + ZipWriter.le16(Int(method))
        header += ZipWriter.le16(0) + ZipWriter.le16(0x21)  // 00:00, 1980-01-01
        header += ZipWriter.le32(crc) + ZipWriter.le32(ZipWriter.clamp32(compressedSize)) + ZipWriter.le32(ZipWriter.clamp32(uncompressedSize))
        header += ZipWriter.le16(nameBytes.count) + ZipWriter.le16(extra.count) + nameBytes + extra
        let start = offset
        try emit(header)
        for part in data where part.count > 0 { try emit(part) }
        written.append(Written(name: nameBytes, method: method, crc: crc, compressedSize: compressedSize,
                               uncompressedSize: uncompressedSize, offset: start))
    }

    /// Writes the central directory and end records.
    mutating func finish() throws {
        let directoryOffset = offset
        for member in written {
            var extra: [UInt8] = []
            if member.uncompressedSize >= 0xFFFF_FFFF { extra += ZipWriter.le64(member.uncompressedSize) }
            if member.compressedSize >= 0xFFFF_FFFF { extra += ZipWriter.le64(member.compressedSize) }
            if member.offset >= 0xFFFF_FFFF { extra += ZipWriter.le64(member.offset) }
            if !extra.isEmpty { extra = ZipWriter.le16(1) + ZipWriter.le16(extra.count) + extra }
            let flags = member.name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
            var entry = ZipWriter.le32(ZipDirectory.centralSignature)
            entry += ZipWriter.le16(0x0300 | 45) + ZipWriter.le16(extra.isEmpty ? 20 : 45)
            entry += ZipWriter.le16(flags) + ZipWriter.le16(Int(member.method)) + ZipWriter.le16(0) + ZipWriter.le16(0x21)
            entry += ZipWriter.le32(member.crc) + ZipWriter.le32(ZipWriter.clamp32(member.compressedSize)) + ZipWriter.le32(ZipWriter.clamp32(member.uncompressedSize))
            entry += ZipWriter.le16(member.name.count) + ZipWriter.le16(extra.count) + ZipWriter.le16(0)
            entry += ZipWriter.le16(0) + ZipWriter.le16(0) + ZipWriter.le32(0o100644 << 16)
            entry += ZipWriter.le32(ZipWriter.clamp32(member.offset)) + member.name + extra
            try emit(entry)
        }
        let directorySize = offset - directoryOffset
        let needsZip64 = written.count >= 0xFFFF || directorySize >= 0xFFFF_FFFF || directoryOffset >= 0xFFFF_FFFF
        if needsZip64 {
            let recordOffset = offset
            var record = ZipWriter.le32(ZipDirectory.zip64EndSignature) + ZipWriter.le64(44)
            record += ZipWriter.le16(0x0300 | 45) + ZipWriter.le16(45) + ZipWriter.le32(0) + ZipWriter.le32(0)
            record += ZipWriter.le64(written.count) + ZipWriter.le64(written.count)
            record += ZipWriter.le64(directorySize) + ZipWriter.le64(directoryOffset)
            record += ZipWriter.le32(ZipDirectory.zip64LocatorSignature) + ZipWriter.le32(0) + ZipWriter.le64(recordOffset) + ZipWriter.le32(1)
            try emit(record)
        }
        var end = ZipWriter.le32(ZipDirectory.endSignature) + ZipWriter.le16(0) + ZipWriter.le16(0)
        let count16 = min(written.count, 0xFFFF)
        end += ZipWriter.le16(count16) + ZipWriter.le16(count16)
        end += ZipWriter.le32(ZipWriter.clamp32(directorySize)) + ZipWriter.le32(ZipWriter.clamp32(directoryOffset)) + ZipWriter.le16(0)
        try emit(end)
    }
}
