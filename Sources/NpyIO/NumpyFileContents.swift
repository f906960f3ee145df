/// What a path holds: one array (.npy) or an archive of arrays (.npz).
public enum NumpyFileContents {
    case npy(NpyArray)
    case npz(NpzArchive)
}

/// What a path holds among the formats that carry named arrays: a .npy array, a .npz archive or a
/// .safetensors file.
public enum ArrayFileContents {
    case npy(NpyArray)
    case npz(NpzArchive)
    case safetensors(SafetensorsFile)
}

/// Opens `path` ("-" = all of stdin) and decides by its magic bytes, not its name: `\x93NUMPY` → .npy,
/// `PK\x03\x04` (or `PK\x05\x06`, an empty zip) → .npz. Regular files are memory-mapped.
///
/// - Throws: `NpyError` naming the path when it cannot be read, is empty, starts with neither magic,
///   or fails to parse as what its magic says.
public func openNumpyFile(path: String, limits: NpyLimits = .default) throws -> NumpyFileContents {
    let storage = try FileDescriptorIO.load(path: path)
    let context = ErrorContext(file: path == "-" ? "<stdin>" : path)
    switch FileKind(storage) {
    case .npy: return .npy(try NpyFile.parse(ByteRegion(storage: storage), limits: limits, context: context))
    case .zipArchive: return .npz(try NpzArchive(storage: storage, file: context.file, limits: limits))
    default:
        if storage.count == 0 { throw context.error("empty file; expected a .npy or .npz file") }
        let head = storage.withBytes { NpyHeader.escapedBytes($0.prefix(6)) }
        throw context.error(at: 0, "neither .npy nor .npz: expected the magic \\x93NUMPY or PK\\x03\\x04, found \(head)")
    }
}

/// Opens `path` ("-" = all of stdin) as ``openNumpyFile(path:limits:)`` does, and also recognises a
/// .safetensors file (an 8-byte length, then '{'). Regular files are memory-mapped.
///
/// - Throws: `NpyError` naming the path when it cannot be read, is empty, is in none of the three
///   formats (a pickled PyTorch checkpoint, `torch.save`'s legacy format, is named as such), or fails
///   to parse as what it looks like.
public func openArrayFile(path: String, limits: NpyLimits = .default) throws -> ArrayFileContents {
    let storage = try FileDescriptorIO.load(path: path)
    let context = ErrorContext(file: path == "-" ? "<stdin>" : path)
    switch FileKind(storage) {
    case .npy: return .npy(try NpyFile.parse(ByteRegion(storage: storage), limits: limits, context: context))
    case .zipArchive: return .npz(try NpzArchive(storage: storage, file: context.file, limits: limits))
    case .safetensors: return .safetensors(try SafetensorsFile(storage: storage, file: context.file))
    case .pickle:
        throw context.error(at: 0, "a pickled PyTorch checkpoint (torch.save's legacy format), not a NumPy or safetensors file; convert it with scripts/convert_checkpoint.py")
    case .unknown:
        if storage.count == 0 { throw context.error("empty file; expected a .npy, .npz or .safetensors file") }
        let head = storage.withBytes { NpyHeader.escapedBytes($0.prefix(9)) }
        throw context.error(at: 0, "neither .npy, .npz nor .safetensors: expected the magic \\x93NUMPY, PK\\x03\\x04 or an 8-byte header length followed by '{', found \(head)")
    }
}

/// A file's format as its first bytes say.
private enum FileKind {
    case npy, zipArchive, safetensors, pickle, unknown

    init(_ storage: ByteStorage) {
        self = storage.withBytes { bytes in
            if bytes.count >= 6 && zip(bytes.prefix(6), NpyHeader.magic).allSatisfy({ $0 == $1 }) { return .npy }
            if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (3, 4) { return .zipArchive }
            if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (5, 6) { return .zipArchive }
            if SafetensorsFile.looksLikeSafetensors(bytes) { return .safetensors }
            if bytes.count >= 2 && bytes[0] == 0x80 && (2...5).contains(bytes[1]) { return .pickle }
            return .unknown
        }
    }
}
