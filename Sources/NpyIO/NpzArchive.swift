/// A read-only .npz (zip) archive of .npy members, as `np.savez` / `np.savez_compressed` write it.
///
/// Opening maps the file and reads only the zip directory; members are decoded on `array(named:)`:
/// - stored members are zero-copy slices of the map (their data is usually unaligned; conversions
///   handle that without undefined behaviour), CRC-32 checked on first access (on all cores for
///   members of a MiB or more);
/// - deflated members are inflated with zlib into a buffer of exactly the declared size; a stream
///   that would produce more is cut off with an error (zip bomb), and the CRC-32 is checked. Each
///   call inflates again, so keep the returned array rather than asking twice.
///
/// Thread-safe: members may be read from several threads.
public final class NpzArchive: @unchecked Sendable {
    /// How the archive is named in errors and in the origins of its arrays.
    public let file: String
    private let storage: ByteStorage
    private let entries: [ZipEntry]
    private let index: [String: Int]
    private let limits: NpyLimits
    private let lock = Lock()
    private var verified: Set<Int> = []

    /// Deflate cannot expand data more than about 1032:1; a declared size beyond this (plus slack)
    /// cannot be genuine and is refused before any memory is allocated.
    static let maximumDeflateRatio = 1032

    /// Opens and maps the archive at `path` ("-" reads all of stdin).
    ///
    /// - Throws: `NpyError` naming the path when it cannot be read (see `NpyFile.read(path:limits:)` for
    ///   FIFOs and devices), is empty or its zip structure is invalid (no end record, directory outside the file, inconsistent local headers, duplicate names).
    public convenience init(path: String, limits: NpyLimits = .default) throws {
        let storage = try FileDescriptorIO.load(path: path)
        try self.init(storage: storage, file: path == "-" ? "<stdin>" : path, limits: limits)
    }

    /// Opens an archive held in memory; `origin` names it in errors.
    public convenience init(bytes: [UInt8], origin: String, limits: NpyLimits = .default) throws {
        try self.init(storage: bytes.withUnsafeBytes { ByteStorage.copying($0) }, file: origin, limits: limits)
    }

    init(storage: ByteStorage, file: String, limits: NpyLimits) throws {
        self.file = file
        self.storage = storage
        self.limits = limits
        let context = ErrorContext(file: file)
        if storage.count == 0 { throw context.error("empty file; expected a .npz archive") }
        entries = try storage.withBytes { try ZipDirectory.parse($0, context: context) }
        var index: [String: Int] = [:]
        for (position, entry) in entries.enumerated() {
            if index[entry.name] != nil {
                throw context.error("the archive holds two members named '\(entry.name)'")
            }
            index[entry.name] = position
        }
        for entry in entries where entry.name.hasSuffix(".npy") {
            let bare = String(entry.name.dropLast(4))
            if index[bare] != nil {
                throw context.error("the archive holds both '\(bare)' and '\(entry.name)', which numpy treats as the same name")
            }
        }
        self.index = index
    }

    /// Member names in archive order, with a `.npy` suffix removed (as `np.load(...).files` lists them).
    public var memberNames: [String] {
        entries.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name }
    }

    /// The CRC-32 the central directory records for member `name` (or `name.npy`) — of its
    /// uncompressed .npy bytes, checked when the member is first read — or nil without such a member.
    public func checksum(ofMember name: String) -> UInt32? {
        position(of: name).map { entries[$0].crc32 }
    }

    /// True when a member is named `name` or `name.npy`.
    public func contains(_ name: String) -> Bool { position(of: name) != nil }

    private func position(of name: String) -> Int? {
        index[name + ".npy"] ?? index[name]
    }

    /// The member `name` (or `name.npy`) as an array.
    ///
    /// - Throws: `NpyError` naming the archive and member when the member is missing, encrypted, uses
    ///   a method other than stored (0) or deflated (8), has inconsistent or impossible sizes, inflates
    ///   past its declared size (zip bomb, cut off), fails its CRC-32, or is not a valid .npy.
    public func array(named name: String) throws -> NpyArray {
        guard let position = position(of: name) else {
            throw NpyError(file: file, message: "no member named '\(name)'; the archive holds \(memberNames.map { "'\($0)'" }.joined(separator: ", "))")
        }
        let entry = entries[position]
        let bareName = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
        let context = ErrorContext(file: file, member: bareName)
        if entry.flags & 0x0001 != 0 {
            throw context.error("the member is encrypted; encrypted archives are not supported")
        }
        let compressed = ByteRegion(storage: storage, offset: entry.dataOffset, count: entry.compressedSize)
        let region: ByteRegion
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw context.error("stored member declares \(entry.compressedSize) compressed but \(entry.uncompressedSize) uncompressed bytes; expected them equal")
            }
            let alreadyChecked = lock.withLock { verified.contains(position) }
            if !alreadyChecked {
                try checkCRC(of: compressed, entry: entry, context: context)
                lock.withLock { _ = verified.insert(position) }
            }
            region = compressed
        case 8:
            region = ByteRegion(storage: try inflate(compressed, entry: entry, context: context))
        default:
            throw context.error("unsupported compression method \(entry.method); expected 0 (stored) or 8 (deflated)")
        }
        try region.withBytes { bytes in
            if bareName == "data.pkl" || bareName.hasSuffix("/data.pkl") {
                throw context.error(at: 0, "a pickle: the archive is a PyTorch checkpoint (torch.save's zip), not a .npz; convert it with scripts/convert_checkpoint.py")
            }
            if bytes.count >= 6 && !zip(bytes.prefix(6), NpyHeader.magic).allSatisfy({ $0 == $1 }) || bytes.count < 6 && bytes.count > 0 {
                throw context.error(at: 0, "the member is not a .npy array: expected the magic \\x93NUMPY, found \(NpyHeader.escapedBytes(bytes.prefix(6)))")
            }
        }
        return try NpyFile.parse(region, limits: limits, context: context)
    }

    private func checkCRC(of region: ByteRegion, entry: ZipEntry, context: ErrorContext) throws {
        let crc = region.withBytes { CRC32.parallelChecksum($0) }
        guard crc == entry.crc32 else {
            throw context.error("CRC-32 mismatch: the central directory says 0x\(hex8(entry.crc32)), the data has 0x\(hex8(crc))")
        }
    }

    private func inflate(_ compressed: ByteRegion, entry: ZipEntry, context: ErrorContext) throws -> ByteStorage {
        let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: NpzArchive.maximumDeflateRatio)
        if overflow || entry.uncompressedSize > bound + 1024 {
            throw context.error("declared uncompressed size \(entry.uncompressedSize) is impossible for \(entry.compressedSize) deflated bytes (deflate expands at most \(NpzArchive.maximumDeflateRatio):1); refused")
        }
        var crc: UInt32 = 0
        let output = try ByteStorage.filling(count: entry.uncompressedSize) { buffer in
            try compressed.withBytes { input in
                do {
                    crc = try Zlib.inflate(input, into: buffer)
                } catch let problem as Zlib.InflateProblem {
                    switch problem {
                    case .exceedsDeclaredSize:
                        throw context.error("decompressed data exceeds the declared \(entry.uncompressedSize) bytes; inflation stopped there (zip bomb or wrong size)")
                    case .shorterThanDeclared(let produced):
                        throw context.error("size mismatch: decompressed to \(produced) bytes, the central directory declares \(entry.uncompressedSize)")
                    case .truncated(let produced):
                        throw context.error("deflate stream is truncated: \(entry.compressedSize) compressed bytes end after \(produced) of \(entry.uncompressedSize) decompressed bytes")
                    case .corrupt(let message):
                        throw context.error("corrupt deflate data: \(message)")
                    }
                }
            }
        }
        if entry.uncompressedSize == 0 {
            // nothing to fill: still require a valid, empty stream
            try compressed.withBytes { input in
                do {
                    try Zlib.inflate(input, into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
                } catch Zlib.InflateProblem.exceedsDeclaredSize {
                    throw context.error("decompressed data exceeds the declared 0 bytes; inflation stopped there (zip bomb or wrong size)")
                } catch {
                    throw context.error("corrupt deflate data for an empty member")
                }
            }
        }
        guard crc == entry.crc32 else {
            throw context.error("CRC-32 mismatch: the central directory says 0x\(hex8(entry.crc32)), the inflated data has 0x\(hex8(crc))")
        }
        return output
    }
}

/// `value` as 8 lowercase hex digits.
func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}
