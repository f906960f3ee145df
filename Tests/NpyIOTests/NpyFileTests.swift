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
