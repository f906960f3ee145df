import Foundation
import Testing
import TestSupport
@testable import NpyIO

@Suite struct NpzWriterTests {
    /// The arrays the cross-checks write: mixed dtypes, orders, a 0-d string and an empty array.
    static func sampleWriter(_ compression: NpzWriter.Compression) throws -> NpzWriter {
        var writer = NpzWriter(compression: compression)
        writer.add("f32", NpyArray(float32: (0..<24).map { Float($0) / 4 }, shape: [2, 3, 4]))
        writer.add("f16", NpyArray(float16Bits: [0x3C00, 0x0001, 0x7C00, 0xFC00], shape: [4]))
        writer.add("i64", NpyArray(int64: [-1, Int64.max], shape: [2]))
        writer.add("mask", NpyArray(bool: [true, false], shape: [1, 2]))
        writer.add("be", try NpyArray(dtype: .int16, byteOrder: .big, shape: [2, 2], fortranOrder: true, bytes: [0, 1, 0, 3, 0, 2, 0, 4]))
        writer.add("config", NpyArray(string: "{\"proj_dim\": 8}"))
        writer.add("empty", NpyArray(float64: [], shape: [0, 3]))
        return writer
    }

    static let numpyCheck = """
    import sys, json, numpy as np
    d = np.load(sys.argv[1])
    out = {k: [str(d[k].dtype), list(d[k].shape), bool(np.isfortran(d[k])), d[k].tolist()] for k in d.files}
    print(json.dumps(out, sort_keys=True))
    """

    @Test(arguments: [NpzWriter.Compression.stored, .deflated])
    func numpyLoadsWhatWeWrite(compression: NpzWriter.Compression) throws {
        try PythonNumpy.require()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("w.npz")
        try Self.sampleWriter(compression).write(to: path)
        let output = try PythonNumpy.run(Self.numpyCheck, arguments: [path])
        let expected = """
        {"be": [">i2", [2, 2], true, [[1, 2], [3, 4]]], "config": ["<U15", [], false, "{\\"proj_dim\\": 8}"], \
        "empty": ["float64", [0, 3], false, []], "f16": ["float16", [4], false, [1.0, 5.960464477539063e-08, Infinity, -Infinity]], \
        "f32": ["float32", [2, 3, 4], false, [[[0.0, 0.25, 0.5, 0.75], [1.0, 1.25, 1.5, 1.75], [2.0, 2.25, 2.5, 2.75]], [[3.0, 3.25, 3.5, 3.75], [4.0, 4.25, 4.5, 4.75], [5.0, 5.25, 5.5, 5.75]]]], \
        "i64": ["int64", [2], false, [-1, 9223372036854775807]], "mask": ["bool", [1, 2], false, [[true, false]]]}

        """
        #expect(output == expected)
    }

    @Test func npyBytesEqualNumpySave() throws {
        try PythonNumpy.require()
        // np.save of the same arrays must give the bytes NpyFile.encode gives
        let writer = try Self.sampleWriter(.stored)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("w.npz")
        try writer.write(to: path)
        let script = """
        import sys, io, zipfile, numpy as np
        d = np.load(sys.argv[1])
        z = zipfile.ZipFile(sys.argv[1])
        for k in d.files:
            b = io.BytesIO(); np.save(b, d[k])
            print(k, b.getvalue() == z.read(k + '.npy'))
        """
        let output = try PythonNumpy.run(script, arguments: [path])
        #expect(output == "f32 True\nf16 True\ni64 True\nmask True\nbe True\nconfig True\nempty True\n")
    }

    /// File offset of each stored member's array data (after its version 1.0 .npy header), found by
    /// walking the local headers as a streaming zip reader would.
    static func dataOffsets(_ bytes: [UInt8]) -> [String: Int] {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        var offsets: [String: Int] = [:]
        var at = 0
        while u32(at) == Int(ZipDirectory.localSignature) {
            let nameLength = u16(at + 26), extraLength = u16(at + 28), size = u32(at + 18)
            let name = String(decoding: bytes[(at + 30)..<(at + 30 + nameLength)], as: UTF8.self)
            let start = at + 30 + nameLength + extraLength
            offsets[name] = start + 10 + u16(start + 8)
            at = start + size
        }
        return offsets
    }

    @Test(arguments: [1, 4, 64, 4096])
    func alignedMembersStartAtMultiplesOfTheAlignment(alignment: Int) throws {
        var writer = try Self.sampleWriter(.stored)
        writer.alignment = alignment
        let bytes = try writer.encode()
        let archive = try NpzArchive(bytes: bytes, origin: "w.npz")
        let offsets = Self.dataOffsets(bytes)
        #expect(offsets.count == 7)
        for (name, offset) in offsets {
            #expect(offset % alignment == 0, "member \(name) at offset \(offset)")
        }
        let plain = try NpzArchive(bytes: try Self.sampleWriter(.stored).encode(), origin: "w.npz")
        for name in archive.memberNames {
            let stored = try archive.array(named: name), unaligned = try plain.array(named: name)
            #expect(stored.bytes == unaligned.bytes && stored.shape == unaligned.shape && stored.dtype == unaligned.dtype
                    && stored.isFortranOrder == unaligned.isFortranOrder, "member \(name)")
        }
        if alignment >= 4 {
            #expect(try archive.array(named: "f32").isFloat32InPlace)  // the archive's copy is 64-byte aligned
        }
        if alignment == 1 {
            #expect(bytes == (try Self.sampleWriter(.stored).encode()))  // exactly np.savez's layout
        }
    }

    @Test func numpyLoadsAnAlignedArchive() throws {
        try PythonNumpy.require()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("w.npz")
        var writer = try Self.sampleWriter(.stored)
        writer.alignment = 64
        try writer.write(to: path)
        let output = try PythonNumpy.run(Self.numpyCheck, arguments: [path])
        let plain = folder.path("plain.npz")
        try Self.sampleWriter(.stored).write(to: plain)
        #expect(output == (try PythonNumpy.run(Self.numpyCheck, arguments: [plain])))
        // The padding is in the local headers only; every member's array data (after its version 1.0
        // .npy header) starts at a multiple of 64 in the file.
        let script = """
        import sys, struct, zipfile
        raw = open(sys.argv[1], 'rb').read()
        z = zipfile.ZipFile(sys.argv[1])
        assert z.testzip() is None
        for i in z.infolist():
            h = i.header_offset
            name_length, extra_length = struct.unpack('<HH', raw[h + 26:h + 30])
            start = h + 30 + name_length + extra_length
            assert raw[start:start + 8] == b'\\x93NUMPY\\x01\\x00'
            header_length, = struct.unpack('<H', raw[start + 8:start + 10])
            print(i.filename, (start + 10 + header_length) % 64, len(i.extra), extra_length > 0)
        """
        #expect(try PythonNumpy.run(script, arguments: [path]) == """
        f32.npy 0 0 True
        f16.npy 0 0 True
        i64.npy 0 0 True
        mask.npy 0 0 True
        be.npy 0 0 True
        config.npy 0 0 True
        empty.npy 0 0 True

        """)
    }

    @Test func readsBackEveryMember() throws {
        let bytes = try Self.sampleWriter(.stored).encode()
        let archive = try NpzArchive(bytes: bytes, origin: "w.npz")
        #expect(archive.memberNames == ["f32", "f16", "i64", "mask", "be", "config", "empty"])
        #expect(try archive.array(named: "be").intElements() == [1, 2, 3, 4])
        #expect(try archive.array(named: "f16").float32Elements() == [1, 0x1p-24, .infinity, -.infinity])
    }
}
