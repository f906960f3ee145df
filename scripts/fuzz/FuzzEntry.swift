#if canImport(Glibc)
import Glibc
#endif

// libFuzzer entry point for the NpyIO parsers; compiled into the NpyIO module by scripts/fuzz/run.sh.
// Every input is tried as .npy, as .npz and as a stream of .npy arrays; whatever parses is read through every accessor and
// must round-trip through the writer. Any trap, sanitizer report or leak is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func npyioFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let array = try? NpyFile.read(bytes: bytes, origin: "fuzz.npy") {
        exercise(array)
    }
    if let archive = try? NpzArchive(bytes: bytes, origin: "fuzz.npz") {
        for name in archive.memberNames {
            _ = archive.contains(name)
            if let array = try? archive.array(named: name) { exercise(array) }
        }
    }
    if size <= 60_000 {
        // the stream reader over the same bytes through a pipe (inputs fit the pipe buffer)
        var fds: [Int32] = [0, 0]
        if pipe(&fds) == 0 {
            _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            close(fds[1])
            let reader = NpyStreamReader(fileDescriptor: fds[0], origin: "<fuzz stream>")
            while let array = try? reader.next() { exercise(array) }
            close(fds[0])
        }
    }
    return 0
}

/// Reads `array` every way the library offers and checks the writer's output reads back equal.
private func exercise(_ array: NpyArray) {
    _ = array.isFloat32InPlace
    _ = try? array.float32Elements()
    _ = try? array.float64Elements()
    _ = try? array.intElements()
    _ = try? array.stringScalar()
    if array.count > 2 {
        _ = try? array.withFloat32Elements(in: 1..<array.count - 1) { $0.reduce(0, +) }
    }
    _ = try? array.converted(to: .float16)
    _ = try? array.converted(to: array.dtype)
    let encoded = NpyFile.encode(array)
    guard let back = try? NpyFile.read(bytes: encoded, origin: "roundtrip.npy") else {
        fatalError("the writer's output for \(array) does not read back")
    }
    precondition(back.dtype == array.dtype && back.shape == array.shape && back.bytes == array.bytes,
                 "round trip changed \(array) into \(back)")
    var writer = NpzWriter(compression: array.byteCount % 2 == 0 ? .stored : .deflated)
    writer.add("a", array)
    guard let zipped = try? writer.encode(), let archive = try? NpzArchive(bytes: zipped, origin: "w.npz"),
          let member = try? archive.array(named: "a") else {
        fatalError("the npz writer's output for \(array) does not read back")
    }
    precondition(member.bytes == array.bytes, "npz round trip changed the bytes of \(array)")
}
