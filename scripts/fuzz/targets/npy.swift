#if canImport(Glibc)
import Glibc
#endif
import NpyIO

// Target `npy`: the .npy parser, from memory, from a memory-mapped file and as a stream of arrays
// through a pipe. Whatever parses is exercised (Exercise.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    if let array = try? NpyFile.read(bytes: bytes, origin: "fuzz.npy") {
        exercise(array)
    }
    let path = scratchFile(bytes, suffix: ".npy")
    if case .npy(let array)? = try? openNumpyFile(path: path) {
        exercise(array)
    }
    unlink(path)
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
