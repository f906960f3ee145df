/// One member as the central directory describes it, with the data offset found in its local header.
struct ZipEntry: Equatable {
    var name: String
    var flags: UInt16
    var method: UInt16
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
    /// First byte of the member's (compressed) data.
    var dataOffset: Int
}

/// Little-endian field access over a buffer; callers bounds-check each field group first.
struct LittleEndianFields {
    let bytes: UnsafeRawBufferPointer

    func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    /// True when `offset..<offset+count` lies inside the buffer (overflow-safe).
    func contains(_ offset: Int, _ count: Int) -> Bool { offset >= 0 && count >= 0 && offset <= bytes.count && count <= bytes.count - offset }
}

/// Reads a zip archive's structure: end of central directory (ZIP64 included), central directory
/// entries (ZIP64 extra fields), and each entry's local header, checked for consistency.
///
/// The central directory is the source of truth for sizes and CRCs (so data descriptors need no
/// parsing); the local header must agree on name and method, and on CRC and sizes unless bit 3
/// (data descriptor) is set.
enum ZipDirectory {
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50

    /// Parses all entries of the archive in `bytes`.
    ///
    /// - Throws: `NpyError` via `context` (offsets are archive offsets) for a missing or inconsistent end
    ///   record, multi-disk archives, a central directory outside the file, bad signatures, names
    ///   that differ from the local header, and data ranges outside the file.
    static func parse(_ bytes: UnsafeRawBufferPointer, context: ErrorContext) throws -> [ZipEntry] {
        let fields = LittleEndianFields(bytes: bytes)
        guard let end = findEnd(fields) else {
            throw context.error("not a zip archive: no end-of-central-directory record (PK\\x05\\x06) in the last \(min(bytes.count, 65_557)) bytes; the file is truncated or not an .npz")
        }
        var entryCount = Int(fields.u16(end + 10))
        var directorySize = Int(fields.u32(end + 12))
        var directoryOffset = Int(fields.u32(end + 16))
        if fields.u16(end + 4) != 0 || fields.u16(end + 6) != 0 {
            throw context.error(at: end + 4, "multi-disk zip archives are not supported: expected disk 0, found disk \(fields.u16(end + 4))")
        }
        let locator = end - 20
        if fields.contains(locator, 20), fields.u32(locator) == zip64LocatorSignature {
            let recordOffset = fields.u64(locator + 8)
            guard recordOffset <= UInt64(Int.max), fields.contains(Int(recordOffset), 56),
                  fields.u32(Int(recordOffset)) == zip64EndSignature else {
                throw context.error(at: locator + 8, "ZIP64 locator points to offset \(recordOffset), where no ZIP64 end record (PK\\x06\\x06) lies")
            }
            let record = Int(recordOffset)
            let count64 = fields.u64(record + 32), size64 = fields.u64(record + 40), offset64 = fields.u64(record + 48)
            guard count64 <= UInt64(Int.max), size64 <= UInt64(Int.max), offset64 <= UInt64(Int.max) else {
                throw context.error(at: record, "ZIP64 end record holds sizes beyond 2^63")
            }
            entryCount = Int(count64)
            directorySize = Int(size64)
            directoryOffset = Int(offset64)
        }
        guard fields.contains(directoryOffset, directorySize), directoryOffset + directorySize <= end else {
            throw context.error(at: end + 12, "central directory of \(directorySize) bytes at offset \(directoryOffset) lies outside the \(bytes.count)-byte archive (truncated?)")
        }
        guard entryCount <= directorySize / 46 else {
            throw context.error(at: end + 10, "the end record declares \(entryCount) entries, but a \(directorySize)-byte central directory holds at most \(directorySize / 46)")
        }
        var entries: [ZipEntry] = []
        entries.reserveCapacity(entryCount)
        var cursor = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<entryCount {
            guard cursor <= directoryEnd - 46 else {
                throw context.error(at: cursor, "central directory entry \(index) runs past the directory's end")
            }
            guard fields.u32(cursor) == centralSignature else {
                throw context.error(at: cursor, "central directory entry \(index): expected the signature PK\\x01\\x02, found 0x\(String(fields.u32(cursor), radix: 16))")
            }
            let nameLength = Int(fields.u16(cursor + 28)), extraLength = Int(fields.u16(cursor + 30)), commentLength = Int(fields.u16(cursor + 32))
            let next = cursor + 46 + nameLength + extraLength + commentLength
            guard next <= directoryEnd else {
                throw context.error(at: cursor, "central directory entry \(index) runs past the directory's end")
            }
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[cursor + 46..<cursor + 46 + nameLength])
            let name = String(decoding: nameBytes, as: UTF8.self)
            let entryContext = ErrorContext(file: context.file, member: name)
            var entry = ZipEntry(name: name, flags: fields.u16(cursor + 8), method: fields.u16(cursor + 10),
                                 crc32: fields.u32(cursor + 16), compressedSize: Int(fields.u32(cursor + 20)),
                                 uncompressedSize: Int(fields.u32(cursor + 24)),
                                 localHeaderOffset: Int(fields.u32(cursor + 42)), dataOffset: 0)
            let needsDisk = fields.u16(cursor + 34) == 0xFFFF
            try applyZip64Extra(fields, extraAt: cursor + 46 + nameLength, extraLength: extraLength,
                                to: &entry, offsetAndDisk: (true, needsDisk), context: entryContext)
            if fields.u16(cursor + 34) != 0 && !needsDisk {
                throw entryContext.error(at: cursor + 34, "member starts on disk \(fields.u16(cursor + 34)); multi-disk archives are not supported")
            }
            entry.dataOffset = try checkLocalHeader(fields, for: entry, limit: directoryOffset, context: entryContext)
            entries.append(entry)
            cursor = next
        }
        return entries
    }

    /// Offset of the end-of-central-directory record, searching backwards over the comment area.
    private static func findEnd(_ fields: LittleEndianFields) -> Int? {
        let count = fields.bytes.count
        guard count >= 22 else { return nil }
        let lowest = max(0, count - 22 - 65_535)
        var position = count - 22
        while position >= lowest {
            if fields.u32(position) == endSignature && position + 22 + Int(fields.u16(position + 20)) <= count {
                return position
            }
            position -= 1
        }
        return nil
    }

    /// Replaces 0xFFFFFFFF sizes (and, for central entries, the offset) with the ZIP64 extra field's values.
    private static func applyZip64Extra(_ fields: LittleEndianFields, extraAt start: Int, extraLength: Int,
                                        to entry: inout ZipEntry, offsetAndDisk: (Bool, Bool), context: ErrorContext) throws {
        let wantsUncompressed = entry.uncompressedSize == 0xFFFF_FFFF
        let wantsCompressed = entry.compressedSize == 0xFFFF_FFFF
        let wantsOffset = offsetAndDisk.0 && entry.localHeaderOffset == 0xFFFF_FFFF
        guard wantsUncompressed || wantsCompressed || wantsOffset || offsetAndDisk.1 else { return }
        var cursor = start
        let end = start + extraLength
        while cursor + 4 <= end {
            let tag = fields.u16(cursor), size = Int(fields.u16(cursor + 2))
            guard cursor + 4 + size <= end else { break }
            if tag == 0x0001 {
                var field = cursor + 4
                func take() throws -> Int {
                    guard field + 8 <= cursor + 4 + size else {
                        throw context.error(at: field, "ZIP64 extra field of \(size) bytes is too short for the sizes marked 0xFFFFFFFF")
                    }
                    let value = fields.u64(field)
                    field += 8
                    guard value <= UInt64(Int.max) else { throw context.error(at: field - 8, "ZIP64 size \(value) exceeds 2^63") }
                    return Int(value)
                }
                if wantsUncompressed { entry.uncompressedSize = try take() }
                if wantsCompressed { entry.compressedSize = try take() }
                if wantsOffset { entry.localHeaderOffset = try take() }
                return
            }
            cursor += 4 + size
        }
        if wantsUncompressed || wantsCompressed || wantsOffset {
            throw context.error(at: start, "sizes are marked 0xFFFFFFFF but no ZIP64 extra field (0x0001) follows")
        }
    }

    /// Checks the local header of `entry` against the central directory and returns the data offset.
    private static func checkLocalHeader(_ fields: LittleEndianFields, for entry: ZipEntry, limit: Int,
                                         context: ErrorContext) throws -> Int {
        let at = entry.localHeaderOffset
        guard fields.contains(at, 30), fields.u32(at) == localSignature else {
            throw context.error(at: at, "expected a local file header (PK\\x03\\x04) at offset \(at), as the central directory says; found \(fields.contains(at, 4) ? "0x" + String(fields.u32(at), radix: 16) : "the end of the file")")
        }
        let nameLength = Int(fields.u16(at + 26)), extraLength = Int(fields.u16(at + 28))
        let dataOffset = at + 30 + nameLength + extraLength
        guard dataOffset <= limit else {
            throw context.error(at: at, "local header runs into the central directory")
        }
        let localName = String(decoding: UnsafeRawBufferPointer(rebasing: fields.bytes[at + 30..<at + 30 + nameLength]), as: UTF8.self)
        guard localName == entry.name else {
            throw context.error(at: at + 30, "local header names '\(localName)', the central directory '\(entry.name)'")
        }
        let method = fields.u16(at + 8)
        guard method == entry.method else {
            throw context.error(at: at + 8, "local header says compression method \(method), the central directory \(entry.method)")
        }
        if fields.u16(at + 6) & 0x0008 == 0 {
            var local = entry
            local.crc32 = fields.u32(at + 14)
            local.compressedSize = Int(fields.u32(at + 18))
            local.uncompressedSize = Int(fields.u32(at + 22))
            try applyZip64Extra(fields, extraAt: at + 30 + nameLength, extraLength: extraLength, to: &local,
                                offsetAndDisk: (false, false), context: context)
            guard local.crc32 == entry.crc32, local.compressedSize == entry.compressedSize,
                  local.uncompressedSize == entry.uncompressedSize else {
                throw context.error(at: at + 14, "local header (CRC 0x\(String(local.crc32, radix: 16)), \(local.compressedSize) compressed, \(local.uncompressedSize) uncompressed bytes) disagrees with the central directory (CRC 0x\(String(entry.crc32, radix: 16)), \(entry.compressedSize), \(entry.uncompressedSize))")
            }
        }
        guard entry.compressedSize <= limit - dataOffset else {
            throw context.error(at: dataOffset, "member data of \(entry.compressedSize) bytes at offset \(dataOffset) runs past the central directory at \(limit) (truncated?)")
        }
        return dataOffset
    }
}
