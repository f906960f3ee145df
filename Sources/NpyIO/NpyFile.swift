/// Reading, encoding and writing single .npy files.
public enum NpyFile {
    /// Reads a .npy file. A regular file is memory-mapped (PROT_READ, MAP_PRIVATE) and the array's
    /// bytes are the mapping itself (zero copy; nothing is read until touched). "-" reads all of stdin;
    /// a FIFO (named pipe, `<(command)`) is read to end of file once a writer has opened it. If the
    /// file shrinks while mapped, the SIGBUS that touching the lost pages raises is reported by
    /// ``MappedFileRegistry``'s handler (where installed) with the path.
    ///
    /// - Throws: `NpyError` naming the path for I/O failures and every format problem (bad magic,
    ///   version, header, dtype, shape, truncated or trailing data); for a directory, a device or a
    ///   socket (only regular files, FIFOs and "-" are read: /dev/zero would never end); for a FIFO
    ///   that no process opens for writing within `FUSECTL_FIFO_WAIT` seconds (default 60).
    public static func read(path: String, limits: NpyLimits = .default) throws -> NpyArray {
        let storage = try FileDescriptorIO.load(path: path)
        let context = ErrorContext(file: path == "-" ? "<stdin>" : path)
        return try parse(ByteRegion(storage: storage), limits: limits, context: context)
    }

    /// Reads a .npy file held in memory; `origin` names it in errors and in `NpyArray.origin`.
    public static func read(bytes: [UInt8], origin: String, limits: NpyLimits = .default) throws -> NpyArray {
        let storage = bytes.withUnsafeBytes { ByteStorage.copying($0) }
        return try parse(ByteRegion(storage: storage), limits: limits, context: ErrorContext(file: origin))
    }

    /// Parses a complete .npy image in `region`; the array's bytes are a slice of it.
    ///
    /// - Throws: `NpyError` via `context`; "truncated" when fewer data bytes than the shape needs are
    ///   present, "trailing data" when more.
    static func parse(_ region: ByteRegion, limits: NpyLimits, context: ErrorContext) throws -> NpyArray {
        let header = try region.withBytes { try NpyHeader.parse($0, limits: limits, context: context) }
        let needed = try header.dataByteCount(context: context)
        let present = region.count - header.dataOffset
        if present < needed {
            throw context.error(at: region.count, "truncated: shape \(NpyHeader.shapeRepr(header.shape)) of \(header.dtype) needs \(needed) data bytes, found \(present)")
        }
        if present > needed {
            throw context.error(at: header.dataOffset + needed, "trailing data: shape \(NpyHeader.shapeRepr(header.shape)) of \(header.dtype) needs \(needed) data bytes, found \(present) (\(present - needed) extra)")
        }
        return NpyArray(dtype: header.dtype, byteOrder: header.byteOrder, shape: header.shape,
                        fortranOrder: header.isFortranOrder, region: region.slice(header.dataOffset..<region.count),
                        source: context)
    }

    /// The header bytes `np.save` writes for `array` (preamble, dict, padding to 64 bytes, newline).
    /// A Fortran-order array whose layout equals C order is written as C order, as numpy does.
    public static func header(for array: NpyArray) -> [UInt8] {
        NpyHeader.encode(dtype: array.dtype, byteOrder: array.byteOrder,
                         fortranOrder: array.isFortranOrder && !array.isCContiguous, shape: array.shape)
    }

    /// The header `np.save` writes for a little-endian, C-order array of `dtype` and `shape`, for
    /// writers that stream the data after it (the data must then be exactly count × itemSize bytes).
    public static func header(dtype: NpyDType, shape: [Int]) -> [UInt8] {
        NpyHeader.encode(dtype: dtype, byteOrder: dtype.itemSize == 1 ? .notApplicable : .little,
                         fortranOrder: false, shape: shape)
    }

    /// The exact bytes `np.save` would write for `array`: `header(for:)` followed by the element bytes
    /// as stored. O(byteCount) memory; `write(_:to:)` streams instead.
    public static func encode(_ array: NpyArray) -> [UInt8] {
        var out = header(for: array)
        out.reserveCapacity(out.count + array.byteCount)
        array.withUnsafeRawBytes { out.append(contentsOf: $0) }
        return out
    }

    /// Writes `array` as .npy to `path` following `OutputFile`'s rules: "-" → stdout in one pass; an
    /// existing non-regular file directly; otherwise a same-folder temporary file, fsync'd and renamed
    /// into place. The header and the data are streamed from the array's storage (no full copy).
    ///
    /// `durable: false` skips the fsyncs (the replacement is still atomic); `beforeRename` as in
    /// `OutputFile.commit(beforeRename:)`.
    ///
    /// - Throws: `NpyError` naming the path; on failure the temporary file is removed.
    public static func write(_ array: NpyArray, to path: String, durable: Bool = true,
                             beforeRename: ((WrittenFile) throws -> Void)? = nil) throws {
        try OutputFile.write(to: path, durable: durable, beforeRename: beforeRename) { output in
            try output.write(header(for: array))
            try array.withUnsafeRawBytes { try output.write($0) }
        }
    }
}

/// Writes one array as .npy to a stream file descriptor (a pipe, a socket, stdout), header then data,
/// with plain `write(2)` calls (nothing is buffered, so nothing needs flushing).
///
/// - Throws: `NpyError` naming `<stdout>` (fd 1) or `<fd N>` for a failed write; a closed pipe (EPIPE)
///   is an error, not a crash, provided SIGPIPE is ignored by the process.
public func writeNpy(_ array: NpyArray, toFileDescriptor fd: Int32) throws {
    let name = fd == 1 ? "<stdout>" : "<fd \(fd)>"
    try NpyFile.header(for: array).withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0, name: name) }
    try array.withUnsafeRawBytes { bytes in
        if bytes.count > 0 { try FileDescriptorIO.writeAll(fd, bytes, name: name) }
    }
}
