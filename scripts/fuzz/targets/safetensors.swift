import NpyIO

// Target `safetensors`: the .safetensors reader: the 8-byte length, the strict JSON header (escapes,
// nesting, numbers), every entry's dtype, shape and offsets (overflow-checked, tiling the data), the
// metadata, and every tensor read back (BF16 widened). Whatever parses is exercised (Exercise.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let file = try? SafetensorsFile(bytes: bytes, origin: "fuzz.safetensors") else { return 0 }
    var covered = 0
    for entry in file.entries {
        precondition(entry.dataOffsets.upperBound <= bytes.count - file.dataStart, "entry '\(entry.name)' outside the data")
        covered += entry.dataOffsets.count
        guard let array = try? file.array(named: entry.name) else {
            fatalError("entry '\(entry.name)' is listed but cannot be read")
        }
        precondition(array.shape == entry.shape, "entry '\(entry.name)' read with another shape")
        exercise(array)
    }
    precondition(covered == bytes.count - file.dataStart, "the entries do not tile the data")
    return 0
}
