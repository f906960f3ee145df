import Foundation
import Testing
import TestSupport
@testable import NpyIO

/// Checks NpyIO against the files numpy wrote (scripts/reference/make_npy_fixtures.py) and the values numpy
/// read back from them (fixtures/npy/expected.json).
@Suite struct FixtureTests {
    static let expected: [String: [String: Any]] = {
        let data = try! Data(contentsOf: fixturesURL("npy/expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
    }()

    static var npyFiles: [String] { expected.keys.filter { $0.hasSuffix(".npy") }.sorted() }
    static var npzFiles: [String] { expected.keys.filter { $0.hasSuffix(".npz") }.sorted() }

    /// Compares `array` with one expected.json entry; `what` names it in failures.
    static func check(_ array: NpyArray, against entry: [String: Any], _ what: String) throws {
        #expect(array.dtype.description == entry["dtype"] as? String, "\(what) dtype")
        #expect(array.dtype.descr(byteOrder: array.byteOrder) == entry["descr"] as? String, "\(what) descr")
        #expect(array.shape == entry["shape"] as? [Int], "\(what) shape")
        #expect(array.isFortranOrder == entry["fortran_order"] as? Bool, "\(what) fortran")
        let hex = array.bytes.map { String(format: "%02x", $0) }.joined()
        #expect(hex == entry["data_hex"] as? String, "\(what) data bytes")
        if let string = entry["string"] as? String {
            #expect(try array.stringScalar() == string, "\(what) string")
        }
        guard let values = entry["values"] as? [Any] else { return }
        if array.dtype.isComplex {
            #expect(throws: NpyError.self) { try array.float32Elements() }
            return
        }
        let texts = values.map { $0 as! String }
        if array.dtype.isInteger || array.dtype == .bool {
            let exact = texts.map { Int($0) }
            if exact.allSatisfy({ $0 != nil }) {
                #expect(try array.intElements() == exact.map { $0! }, "\(what) ints")
                #expect(try array.float32Elements() == exact.map { Float($0!) }, "\(what) ints as float32")
            } else {
                #expect(throws: NpyError.self, "\(what) uint64 beyond Int.max") { try array.intElements() }
                let unsigned = texts.map { UInt64($0)! }
                #expect(try array.float32Elements() == unsigned.map(Float.init), "\(what) uint64 as float32")
            }
            return
        }
        let doubles = texts.map { Double($0)! }
        assertClose(try array.float64Elements(), doubles, "\(what) float64")
        assertClose(try array.float32Elements(), doubles.map { Float($0) }, "\(what) float32")
        #expect(throws: NpyError.self) { try array.intElements() }
    }

    @Test(arguments: npyFiles)
    func readsWhatNumpyWrote(file: String) throws {
        let array = try NpyFile.read(path: fixturesURL("npy/" + file).path)
        try Self.check(array, against: Self.expected[file]!, file)
        // chunks stream the same values as the whole (covers Fortran order and unaligned paths)
        if array.dtype.isNumeric && !array.dtype.isComplex && array.count > 2 {
            let whole = try array.float32Elements()
            let middle = try array.withFloat32Elements(in: 1..<array.count - 1) { Array($0) }
            #expect(middle.map(\.bitPattern) == whole[1..<array.count - 1].map(\.bitPattern), "\(file) chunk")
        }
    }

    @Test(arguments: npyFiles.filter { !["valid/version_2.npy", "valid/version_3.npy", "valid/align16.npy", "valid/no_padding.npy",
                                         "valid/no_newline.npy", "valid/keys_reordered.npy", "valid/native_order.npy"].contains($0) })
    func encodesByteForByteLikeNpSave(file: String) throws {
        let url = fixturesURL("npy/" + file)
        let original = try [UInt8](Data(contentsOf: url))
        let array = try NpyFile.read(path: url.path)
        #expect(NpyFile.encode(array) == original, "\(file)")
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try NpyFile.write(array, to: folder.path("copy.npy"))
        #expect(try [UInt8](Data(contentsOf: folder.url.appendingPathComponent("copy.npy"))) == original, "\(file) via write")
    }

    @Test(arguments: npzFiles)
    func readsArchivesNumpyWrote(file: String) throws {
        let entry = Self.expected[file]!
        let archive = try NpzArchive(path: fixturesURL("npy/" + file).path)
        #expect(archive.memberNames == entry["member_order"] as? [String], "\(file) members")
        let members = entry["members"] as! [String: [String: Any]]
        for name in archive.memberNames {
            let array = try archive.array(named: name)
            #expect(array.origin == fixturesURL("npy/" + file).path + ":" + name)
            try Self.check(array, against: members[name]!, "\(file):\(name)")
        }
    }

    /// Every malformed fixture and the exact error it must produce (`FILE` stands for the path).
    static let badCases: [(String, String?, String)] = [
        ("bad_magic.npy", nil, "FILE at byte 0: not a .npy file: expected the magic \\x93NUMPY, found '\\x93NUMPZ'"),
        ("bad_version.npy", nil, "FILE at byte 6: unsupported format version: expected 1.0, 2.0 or 3.0, found 4.0"),
        ("header_too_long.npy", nil, "FILE at byte 8: header length 10061 exceeds the limit of 10000 bytes (raise NpyLimits.maxHeaderLength to read it)"),
        ("header_syntax.npy", nil, "FILE at byte 67: malformed header: expected ',' or '}', found the end of the header"),
        ("header_not_dict.npy", nil, "FILE at byte 10: malformed header: expected a dict, found ('<f4', False, (2, 3))"),
        ("header_missing_key.npy", nil, "FILE at byte 10: malformed header: missing the key 'fortran_order'; expected exactly 'descr', 'fortran_order', 'shape'"),
        ("header_extra_key.npy", nil, "FILE at byte 10: malformed header: unexpected key 'x'; expected exactly 'descr', 'fortran_order', 'shape'"),
        ("header_bad_fortran.npy", nil, "FILE at byte 10: malformed header: 'fortran_order' must be True or False, found 'no'"),
        ("header_negative_shape.npy", nil, "FILE at byte 10: bad shape: entry 0 is -2; expected an integer from 0 to 9223372036854775807"),
        ("descr_unknown.npy", nil, "FILE at byte 10: descr '<f5' is not a dtype NpyIO knows; expected e.g. '<f4', '>i8', '|b1', '<U5', '|S3'"),
        ("descr_object.npy", nil, "FILE at byte 10: descr '|O' is the object dtype; refused because reading it would mean unpickling"),
        ("descr_structured.npy", nil, "FILE at byte 10: descr is a list: structured dtypes are not supported; expected a single typestr such as '<f4'"),
        ("shape_overflow.npy", nil, "FILE at byte 10: bad shape (4294967296, 4294967296): the element count overflows a 64-bit integer"),
        ("truncated_data.npy", nil, "FILE at byte 147: truncated: shape (2, 3) of float32 needs 24 data bytes, found 19"),
        ("trailing_data.npy", nil, "FILE at byte 152: trailing data: shape (2, 3) of float32 needs 24 data bytes, found 27 (3 extra)"),
        ("truncated_header.npy", nil, "FILE at byte 40: truncated: the header length field says 118 bytes of header text, found 30"),
        ("crc_mismatch.npz", "weights", "FILE member 'weights': CRC-32 mismatch: the central directory says 0x"),
        ("size_mismatch.npz", nil, "FILE member 'weights.npy' at byte 14: local header (CRC 0x"),
        ("size_mismatch_deflated.npz", "weights", "FILE member 'weights': size mismatch: decompressed to 176 bytes, the central directory declares 184"),
        ("unsupported_method.npz", "weights", "FILE member 'weights': unsupported compression method 12; expected 0 (stored) or 8 (deflated)"),
        ("zip_bomb.npz", "bomb", "FILE member 'bomb': decompressed data exceeds the declared 4096 bytes; inflation stopped there (zip bomb or wrong size)"),
        ("not_npy_member.npz", "readme.txt", "FILE member 'readme.txt' at byte 0: the member is not a .npy array: expected the magic \\x93NUMPY, found 'this m'"),
        ("truncated.npz", nil, "FILE: not a zip archive: no end-of-central-directory record (PK\\x05\\x06) in the last 438 bytes; the file is truncated or not an .npz"),
        ("local_name_mismatch.npz", nil, "FILE member 'weights.npy' at byte 30: local header names 'Weights.npy', the central directory 'weights.npy'"),
        ("bad_npy_member.npz", "x", "FILE member 'x' at byte 10: descr '|O' is the object dtype; refused because reading it would mean unpickling"),
    ]

    @Test func everyBadFixtureHasACase() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: fixturesURL("npy/bad").path).sorted()
        #expect(files == Self.badCases.map(\.0).sorted())
    }

    @Test(arguments: badCases.indices)
    func malformedFilesGiveExactErrors(index: Int) throws {
        let (file, member, expected) = Self.badCases[index]
        let path = fixturesURL("npy/bad/" + file).path
        let message: String
        do {
            if file.hasSuffix(".npz") {
                let archive = try NpzArchive(path: path)
                _ = try archive.array(named: try #require(member, "\(file) opened but no member to read"))
            } else {
                _ = try NpyFile.read(path: path)
            }
            message = "no error"
        } catch {
            message = "\(error)"
        }
        let wanted = expected.replacingOccurrences(of: "FILE", with: path)
        if expected.hasSuffix("0x") || expected.hasSuffix("(CRC 0x") {
            #expect(message.hasPrefix(wanted), "\(file)")
        } else {
            #expect(message == wanted, "\(file)")
        }
    }
}
