import Foundation
import Testing
import TestSupport
@testable import NpyIO

/// ZIP64 on the write side, checked without 4 GiB of memory or disk: the big member's data is an
/// anonymous read-only mapping (zero pages) and the archive is written as a sparse file.
@Suite struct ZipWriterTests {
    /// A float32 array of `count` zeros backed by an anonymous mapping (no resident memory).
    static func zeroArray(count: Int) -> NpyArray {
        let length = count * 4
        let pointer = mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        precondition(pointer != MAP_FAILED)
        let storage = ByteStorage.adoptMapping(pointer, length: length)
        return NpyArray(dtype: .float32, byteOrder: .little, shape: [count], fortranOrder: false,
                        region: ByteRegion(storage: storage), source: ErrorContext(file: "<zeros>"))
    }

    /// Writes `writer` to `path`, turning all-zero chunks over 1 MiB into holes.
    static func writeSparse(_ writer: NpzWriter, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0)
        defer { close(fd) }
        var size = 0
        try writer.write { bytes in
            if bytes.count > 1 << 20 {
                precondition(lseek(fd, off_t(bytes.count), SEEK_CUR) >= 0)
            } else {
                try FileDescriptorIO.writeAll(fd, bytes, name: path)
            }
            size += bytes.count
        }
        precondition(ftruncate(fd, off_t(size)) == 0)
    }

    @Test func membersAndOffsetsPast4GiBUseZip64() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("big.npz")
        let count = (1 << 30) + 16  // 4 GiB + 64 bytes of data
        var writer = NpzWriter()
        writer.add("big", Self.zeroArray(count: count))
        writer.add("after", NpyArray(float32: [1, 2, 3], shape: [3]))
        try Self.writeSparse(writer, to: path)

        let storage = try FileDescriptorIO.load(path: path)
        let entries = try storage.withBytes { try ZipDirectory.parse($0, context: ErrorContext(file: path)) }
        #expect(entries.map(\.name) == ["big.npy", "after.npy"])
        #expect(entries[0].uncompressedSize == count * 4 + 128 && entries[0].compressedSize == count * 4 + 128)
        #expect(entries[1].localHeaderOffset > 0xFFFF_FFFF)
        // reading only the small member touches only its pages of the sparse file
        #expect(try NpzArchive(path: path).array(named: "after").float32Elements() == [1, 2, 3])

        // numpy's own reading of the same file (a failure under CI without python3 and numpy, a skip elsewhere)
        try PythonNumpy.require()
        do {
            let script = """
            import sys, zipfile, numpy as np
            z = zipfile.ZipFile(sys.argv[1])
            print([(i.filename, i.file_size, i.header_offset > 0xFFFFFFFF) for i in z.infolist()])
            print(np.load(sys.argv[1])['after'].tolist())
            """
            let output = try PythonNumpy.run(script, arguments: [path])
            #expect(output == "[('big.npy', \(count * 4 + 128), False), ('after.npy', 140, True)]\n[1.0, 2.0, 3.0]\n")
        }
    }

    @Test func moreThan65534MembersUseTheZip64EndRecord() throws {
        try PythonNumpy.require()
        var writer = NpzWriter()
        for i in 0..<65_540 { writer.add("m\(i)", NpyArray(int64: [Int64(i)], shape: [])) }
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("many.npz")
        try writer.write(to: path, durable: false)
        let archive = try NpzArchive(path: path)
        #expect(archive.memberNames.count == 65_540)
        #expect(try archive.array(named: "m65539").intElements() == [65_539])
        let output = try PythonNumpy.run("import sys, numpy as np\nd = np.load(sys.argv[1])\nprint(len(d.files), int(d['m65539']))", arguments: [path])
        #expect(output == "65540 65539\n")
    }
}
