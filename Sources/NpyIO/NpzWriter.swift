/// Builds an .npz archive that `np.load` reads: one `NAME.npy` member per array, each holding the
/// exact bytes `np.save` would write, stored or deflated (zlib level 6, like `np.savez_compressed`).
/// ZIP64 extra fields and end records are written where a member or the archive passes 4 GiB.
public struct NpzWriter {
    /// How members are written: `stored` (`np.savez`) or `deflated` (`np.savez_compressed`).
    public enum Compression: Sendable { case stored, deflated }

    /// How every member is written.
    public var compression: Compression
    /// Stored members' array data starts at a file offset that is a multiple of this (1 to 32768
    /// bytes): a readable `mmap` of the archive then holds each array at an address aligned to it,
    /// so that float32 arrays can be read in place. 1 writes exactly the bytes of `np.savez`; larger
    /// values pad the local headers with a zipalign extra field (id 0xD935), which zip readers,
    /// numpy's included, skip. Deflated members are not aligned (they are inflated into a buffer).
    public var alignment: Int
    private var members: [(name: String, array: NpyArray)] = []
    private var nameSet: Set<String> = []

    /// An empty archive; members are added with `add(_:_:)`.
    /// - Precondition: `alignment` is in 1…32768 (traps otherwise).
    public init(compression: Compression = .stored, alignment: Int = 1) {
        precondition((1...32768).contains(alignment), "NpzWriter: alignment \(alignment) is not in 1...32768")
        self.compression = compression
        self.alignment = alignment
    }

    /// Names added so far, in order.
    public var names: [String] { members.map(\.name) }

    /// Adds `array` as member `name.npy` (`name` without the suffix). Adding a name twice traps
    /// (a broken caller contract: the archive would be ambiguous).
    public mutating func add(_ name: String, _ array: NpyArray) {
        precondition(nameSet.insert(name).inserted, "NpzWriter: member '\(name)' added twice")
        members.append((name, array))
    }

    /// The whole archive in memory. Throws only if a write through the internal sink fails (it does
    /// not for memory), so callers may treat errors as impossible.
    public func encode() throws -> [UInt8] {
        var out: [UInt8] = []
        try write { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the archive to `path` with `OutputFile`'s rules ("-" → stdout in one pass; existing
    /// non-regular files directly; otherwise a same-folder temporary file, fsync'd and renamed into
    /// place). Stored member data is streamed from the arrays (no copy); deflated members are
    /// compressed one at a time in memory.
    ///
    /// `durable: false` skips the fsyncs (the replacement is still atomic); `beforeRename` as in
    /// `OutputFile.commit(beforeRename:)`.
    ///
    /// - Throws: `NpyError` naming the path; on failure the temporary file is removed.
    public func write(to path: String, durable: Bool = true, beforeRename: ((WrittenFile) throws -> Void)? = nil) throws {
        try OutputFile.write(to: path, durable: durable, beforeRename: beforeRename) { output in
            try write { try output.write($0) }
        }
    }

    /// Streams the archive through `sink` in order (internal: tests use a sparse-file sink).
    func write(_ sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        var zip = ZipWriter(sink: sink)
        for (name, array) in members {
            let header = NpyFile.header(for: array)
            try header.withUnsafeBytes { headerBytes in
                try array.withUnsafeRawBytes { dataBytes in
                    let crc = CRC32.checksum(dataBytes, continuing: CRC32.checksum(headerBytes))
                    let size = headerBytes.count + dataBytes.count
                    switch compression {
                    case .stored:
                        try zip.addMember(name: name + ".npy", method: 0, crc: crc, uncompressedSize: size, data: [headerBytes, dataBytes],
                                          align: alignment > 1 ? (alignment, headerBytes.count) : nil)
                    case .deflated:
                        let packed = Zlib.deflate([headerBytes, dataBytes])
                        try packed.withUnsafeBytes { packedBytes in
                            try zip.addMember(name: name + ".npy", method: 8, crc: crc, uncompressedSize: size, data: [packedBytes])
                        }
                    }
                }
            }
        }
        try zip.finish()
    }
}
