import Foundation
import Testing
import TestSupport
@testable import NpyIO

@Suite struct NpyFileTests {
    @Test func writeThenReadMapsTheFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("x.npy")
        let values = (0..<1000).map { Float($0) * 0.5 }
        try NpyFile.write(NpyArray(float32: values, shape: [10, 100]), to: path)
        let array = try NpyFile.read(path: path)
        #expect(array.origin == path)
        #expect(array.isFloat32InPlace)  // data at offset 128 of a page-aligned map
        #expect(try array.float32Elements() == values)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes == NpyFile.encode(array))
    }

    /// Resident set size of this process in bytes (from /proc/self/statm).
    static func residentBytes() -> Int {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return fields.count > 1 ? Int(fields[1])! * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    @Test func openingAHugeFileMapsItWithoutReadingIt() throws {
        // a 4 GiB float32 .npy whose data is a hole in a sparse file
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("huge.npy")
        let count = 1 << 30
        let header = NpyHeader.encode(dtype: .float32, byteOrder: .little, fortranOrder: false, shape: [count])
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        header.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        #expect(ftruncate(fd, off_t(header.count + count * 4)) == 0)
        close(fd)
        _ = try NpyFile.read(path: path)  // warm-up: first-use costs of the runtime
        let rss0 = Self.residentBytes(), cpu0 = Self.threadCPUSeconds()
        let array = try NpyFile.read(path: path)
        let cpu = Self.threadCPUSeconds() - cpu0, rss = Self.residentBytes() - rss0
        #expect(array.count == count && array.isFloat32InPlace)
        #expect(cpu < 0.001, "opening took \(cpu * 1e3) ms of CPU")
        #expect(rss < 1 << 20, "opening grew the resident set by \(rss) bytes")
        print("open of a 4 GiB .npy: \(cpu * 1e6) µs CPU, resident set +\(rss) bytes")
        // touching a 1 MiB window maps only that window
        let sum = try array.withFloat32Elements(in: 1_000_000..<1_262_144) { $0.reduce(0, +) }
        #expect(sum == 0)
        #expect(Self.residentBytes() - rss0 < 8 << 20)
    }

    @Test func fifoIsReadToTheEnd() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        let bytes = NpyFile.encode(NpyArray(int64: [5, 6, 7], shape: [3]))
        Thread.detachNewThread {
            let fd = open(path, O_WRONLY)
            bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let array = try NpyFile.read(path: path)
        #expect(try array.intElements() == [5, 6, 7])
        #expect(array.origin == path)
    }

    @Test func readErrorsNameThePath() {
        #expect(throws: NpyError(file: "/nonexistent.npy", message: "cannot open for reading: No such file or directory")) {
            try NpyFile.read(path: "/nonexistent.npy")
        }
        #expect(throws: NpyError(file: "/tmp", message: "is a directory, expected a .npy or .npz file")) {
            try NpyFile.read(path: "/tmp")
        }
    }

    @Test func everyDTypeRoundTripsThroughEncode() throws {
        let dtypes: [(NpyDType, NpyByteOrder)] = [
            (.bool, .notApplicable), (.int8, .notApplicable), (.uint8, .notApplicable), (.int16, .big), (.uint16, .little),
            (.int32, .little), (.uint32, .big), (.int64, .big), (.uint64, .little), (.float16, .big), (.float32, .big),
            (.float64, .little), (.complex64, .big), (.complex128, .little), (.unicode(length: 3), .big), (.bytes(length: 5), .notApplicable),
        ]
        for (dtype, order) in dtypes {
            for (shape, fortran) in [([2, 3], false), ([2, 3], true), ([], false), ([0, 4], false)] {
                let count = shape.reduce(1, *)
                let bytes = (0..<count * dtype.itemSize).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) & (dtype == .bool ? 1 : 0xFF) }
                let array = try NpyArray(dtype: dtype, byteOrder: order, shape: shape, fortranOrder: fortran, bytes: bytes)
                let back = try NpyFile.read(bytes: NpyFile.encode(array), origin: "t")
                #expect(back.dtype == dtype && back.byteOrder == order && back.shape == shape, "\(dtype) \(shape)")
                #expect(back.isFortranOrder == (fortran && !array.isCContiguous))
                #expect(back.bytes == bytes)
            }
        }
    }

    @Test func openNumpyFileSniffsTheMagic() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try NpyFile.write(NpyArray(float32: [1], shape: [1]), to: folder.path("a.bin"))
        var writer = NpzWriter()
        writer.add("x", NpyArray(float32: [2], shape: [1]))
        try writer.write(to: folder.path("b.bin"))
        guard case .npy(let array) = try openNumpyFile(path: folder.path("a.bin")) else { Issue.record("a.bin is not .npy"); return }
        #expect(try array.float32Elements() == [1])
        guard case .npz(let archive) = try openNumpyFile(path: folder.path("b.bin")) else { Issue.record("b.bin is not .npz"); return }
        #expect(try archive.array(named: "x").float32Elements() == [2])
        try Data("hello".utf8).write(to: URL(fileURLWithPath: folder.path("c.txt")))
        #expect(throws: NpyError(file: folder.path("c.txt"), offset: 0, message: "neither .npy nor .npz: expected the magic \\x93NUMPY or PK\\x03\\x04, found 'hello'")) {
            try openNumpyFile(path: folder.path("c.txt"))
        }
        #expect(FileManager.default.createFile(atPath: folder.path("empty"), contents: nil))
        #expect(throws: NpyError(file: folder.path("empty"), message: "empty file; expected a .npy or .npz file")) {
            try openNumpyFile(path: folder.path("empty"))
        }
    }
}
