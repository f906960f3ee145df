/// What a path holds: one array (.npy) or an archive of arrays (.npz).
public enum NumpyFileContents {
    case npy(NpyArray)
    case npz(NpzArchive)
}

/// Opens `path` ("-" = all of stdin) and decides by its magic bytes, not its name: `\x93NUMPY` → .npy,
/// `PK\x03\x04` (or `PK\x05\x06`, an empty zip) → .npz. Regular files are memory-mapped.
///
/// - Throws: `NpyError` naming the path when it cannot be read, is empty, starts with neither magic,
///   or fails to parse as what its magic says.
public func openNumpyFile(path: String, limits: NpyLimits = .default) throws -> NumpyFileContents {
    let storage = try FileDescriptorIO.load(path: path)
    let context = ErrorContext(file: path == "-" ? "<stdin>" : path)
    let kind: Int = storage.withBytes { bytes in
        if bytes.count >= 6 && zip(bytes.prefix(6), NpyHeader.magic).allSatisfy({ $0 == $1 }) { return 1 }
        if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (3, 4) { return 2 }
        if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (5, 6) { return 2 }
        return 0
    }
    switch kind {
    case 1: return .npy(try NpyFile.parse(ByteRegion(storage: storage), limits: limits, context: context))
    case 2: return .npz(try NpzArchive(storage: storage, file: context.file, limits: limits))
    default:
        if storage.count == 0 { throw context.error("empty file; expected a .npy or .npz file") }
        let head = storage.withBytes { NpyHeader.escapedBytes($0.prefix(6)) }
        throw context.error(at: 0, "neither .npy nor .npz: expected the magic \\x93NUMPY or PK\\x03\\x04, found \(head)")
    }
}
