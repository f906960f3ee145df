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
