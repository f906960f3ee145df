import NpyIO

// Target `npz`: the .npz (zip) reader: the directory, every member (stored or deflated, CRC-checked,
// zip-bomb limits) and the .npy inside. Whatever parses is exercised (Exercise.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let archive = try? NpzArchive(bytes: bytes, origin: "fuzz.npz") else { return 0 }
    for name in archive.memberNames {
        precondition(archive.contains(name), "memberNames lists '\(name)' but contains() denies it")
        if let array = try? archive.array(named: name) {
            exercise(array)
            // a second read takes the verified (cached CRC) path and must give the same bytes
            let again = try? archive.array(named: name)
            precondition(again?.bytes == array.bytes, "member '\(name)' read twice differs")
        }
    }
    return 0
}
