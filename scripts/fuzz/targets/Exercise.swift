#if canImport(Glibc)
import Glibc
#endif
import NpyIO

// Shared by every fuzz target (scripts/fuzz/run.sh compiles it into each).

/// The fuzzer's bytes as an array (libFuzzer passes a null pointer for the empty input).
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Reads `array` every way the library offers (elements, conversions, statistics, comparison with
/// itself) and checks that the .npy and .npz writers' output reads back equal. Any trap here, or a
/// sanitizer report, is a finding.
func exercise(_ array: NpyArray) {
    _ = array.isFloat32InPlace
    _ = try? array.float32Elements()
    _ = try? array.float64Elements()
    _ = try? array.intElements()
    _ = try? array.stringScalar()
    _ = try? ArrayStatistics(of: array)
    _ = try? ArrayComparison.compare(expected: array, actual: array, rtol: 1e-5, atol: 1e-8, equalNaN: true)
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

/// Writes `bytes` to a per-process scratch file in /dev/shm (or /tmp) and returns its path, so that
/// a target can drive the path-based readers (memory-mapped, as the CLI reads files).
func scratchFile(_ bytes: [UInt8], suffix: String) -> String {
    let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    let path = "\(folder)/fusectl-fuzz-\(getpid())\(suffix)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot create the scratch file \(path)")
    bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let wrote = write(fd, raw.baseAddress! + done, raw.count - done)
            precondition(wrote > 0, "cannot write the scratch file \(path)")
            done += wrote
        }
    }
    close(fd)
    return path
}

/// Whether FUZZ_TRACE is set: targets then print what each input led to (for checking seeds by hand:
/// `FUZZ_TRACE=1 .build/fuzz/weights/fuzz -runs=1 fixtures/fuzz/weights/*`).
let fuzzTrace = getenv("FUZZ_TRACE") != nil

/// Prints `message()` when FUZZ_TRACE is set.
func trace(_ message: @autoclosure () -> String) {
    if fuzzTrace { print("fuzz: \(message())") }
}

/// The .npy arrays written back to back at the start of `bytes` (read with NpyStreamReader through a
/// pipe; stops at the first malformed one). Inputs longer than 60,000 bytes (beyond a pipe's buffer)
/// give none.
func arraysFromStream(_ bytes: [UInt8]) -> [NpyArray] {
    guard bytes.count <= 60_000 else { return [] }
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return [] }
    _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    close(fds[1])
    defer { close(fds[0]) }
    let reader = NpyStreamReader(fileDescriptor: fds[0], origin: "<fuzz stream>")
    var arrays: [NpyArray] = []
    while let array = try? reader.next() { arrays.append(array) }
    return arrays
}

/// An input for the archive-reading targets: the bytes themselves when they start like a zip ("PK"),
/// else an archive of the .npy arrays at their start (`arraysFromStream`), named by `name(index, array)`
/// (nil skips it), written with correct CRCs. The second form lets the fuzzer mutate headers and values
/// directly instead of dying on CRC-32 checks; the first keeps the zip layer in play.
func archiveBytes(_ bytes: [UInt8], name: (Int, NpyArray) -> String?) -> [UInt8]? {
    if bytes.starts(with: [0x50, 0x4B]) { return bytes }
    let arrays = arraysFromStream(bytes)
    guard !arrays.isEmpty else { return nil }
    var writer = NpzWriter(compression: bytes.count % 3 == 0 ? .deflated : .stored)
    var used: Set<String> = []
    for (index, array) in arrays.enumerated() {
        guard let member = name(index, array), used.insert(member).inserted else { continue }
        writer.add(member, array)
    }
    return try? writer.encode()
}
