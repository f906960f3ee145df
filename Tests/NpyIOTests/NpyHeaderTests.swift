import Testing
@testable import NpyIO

/// Builds a .npy image with a hand-written header text (no padding added) followed by `data`.
func rawNpy(_ header: String, major: UInt8 = 1, data: [UInt8] = []) -> [UInt8] {
    let text = Array(header.utf8)
    var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
    if major == 1 {
        out += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
    } else {
        out += [UInt8(text.count & 0xFF), UInt8((text.count >> 8) & 0xFF), UInt8(text.count >> 16), 0]
    }
    return out + text + data
}

/// The error `NpyFile.read(bytes:)` throws for `bytes`, as text.
func readError(_ bytes: [UInt8], origin: String = "t.npy", limits: NpyLimits = .default) -> String? {
    do {
        _ = try NpyFile.read(bytes: bytes, origin: origin, limits: limits)
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct NpyHeaderTests {
    @Test func parsesAnyKeyOrderQuotesWhitespaceAndTrailingComma() throws {
        let variants = [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            "{\"shape\":(2,3),\"descr\":\"<f4\",\"fortran_order\":False}",
            "{ 'fortran_order' : False ,\n\t'shape' : ( 2 , 3 , ) , 'descr' : u'<f4' }   \n",
            "{'descr': '<f4', # comment\n 'fortran_order': False, 'shape': (2, 3)}",
        ]
        for text in variants {
            let array = try NpyFile.read(bytes: rawNpy(text, data: [UInt8](repeating: 0, count: 24)), origin: "t.npy")
            #expect(array.shape == [2, 3], "\(text)")
            #expect(array.dtype == .float32)
            #expect(!array.isFortranOrder)
        }
    }

    @Test func parsesZeroDAndOneDShapesAndAllVersions() throws {
        let zeroD = try NpyFile.read(bytes: rawNpy("{'descr': '<i8', 'fortran_order': False, 'shape': ()}", data: [7, 0, 0, 0, 0, 0, 0, 0]), origin: "t")
        #expect(zeroD.shape == [])
        #expect(zeroD.count == 1)
        #expect(try zeroD.intElements() == [7])
        for major in [UInt8(1), 2, 3] {
            let oneD = try NpyFile.read(bytes: rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,)}", major: major, data: [1, 2, 3]), origin: "t")
            #expect(oneD.shape == [3])
            #expect(try oneD.intElements() == [1, 2, 3])
        }
        let empty = try NpyFile.read(bytes: rawNpy("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 5)}"), origin: "t")
        #expect(empty.count == 0)
        #expect(try empty.float32Elements() == [])
    }

    @Test func version3HeaderIsUTF8() throws {
        let bytes = rawNpy("{'descr': '<U1', 'fortran_order': False, 'shape': (), } # é", major: 3, data: [0x41, 0, 0, 0])
        #expect(try NpyFile.read(bytes: bytes, origin: "t").stringScalar() == "A")
    }

    @Test func malformedHeadersNameTheProblem() {
        let data = [UInt8](repeating: 0, count: 4)
        let cases: [(String, String)] = [
            ("{'descr': '<f4', 'fortran_order': False}",
             "t.npy at byte 10: malformed header: missing the key 'shape'; expected exactly 'descr', 'fortran_order', 'shape'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
             "t.npy at byte 10: malformed header: unexpected key 'x'; expected exactly 'descr', 'fortran_order', 'shape'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}",
             "t.npy at byte 10: malformed header: the key 'shape' appears twice"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
             "t.npy at byte 10: malformed header: 'fortran_order' must be True or False, found 0"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
             "t.npy at byte 10: malformed header: 'shape' must be a tuple of integers, found [1]"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}",
             "t.npy at byte 10: malformed header: 'shape' entry 0 must be an integer, found 1.0"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
             "t.npy at byte 10: bad shape: entry 0 is -1; expected an integer from 0 to 9223372036854775807"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
             "t.npy at byte 10: bad shape: entry 0 is 99999999999999999999; expected an integer from 0 to 9223372036854775807"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
             "t.npy at byte 10: bad shape (4294967296, 4294967296): the element count overflows a 64-bit integer"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}",
             "t.npy at byte 10: bad shape (2305843009213693952,): 2305843009213693952 elements of float64 overflow a 64-bit byte count"),
            ("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: descr '|O' is the object dtype; refused because reading it would mean unpickling"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: descr is a list: structured dtypes are not supported; expected a single typestr such as '<f4'"),
            ("{'descr': '<f3', 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: descr '<f3' is not a dtype NpyIO knows; expected e.g. '<f4', '>i8', '|b1', '<U5', '|S3'"),
            ("{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: descr '<M8[s]' is a datetime dtype, which NpyIO does not support; expected bool, int, uint, float, complex, U or S"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
             "t.npy at byte 64: malformed header: expected ',' or '}', found the end of the header"),
            ("{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 26: malformed header: expected ',' or '}' in the dict, found ''fortran_ord'"),
            ("['descr']", "t.npy at byte 10: malformed header: expected a dict, found ['descr']"),
            // numpy refuses keys that are not str (it cannot sort them with the str keys) and bytes descrs.
            ("{b'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: malformed header: expected str keys, found the key b'descr'"),
            ("{1: '<f4', 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: malformed header: expected str keys, found the key 1"),
            ("{'descr': b'<f4', 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 10: malformed header: 'descr' must be a string, found b'<f4'"),
            ("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
             "t.npy at byte 27: malformed header: expected ',' or '}' in the dict, found 'fortran_orde'"),
            ("{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}",
             "t.npy at byte 44: malformed header: expected a Python literal, found 'false, 'shap'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
             "t.npy at byte 66: malformed header: expected the end of the header after the dict, found 'x'"),
        ]
        for (header, expected) in cases {
            #expect(readError(rawNpy(header, data: data)) == expected, "\(header)")
        }
    }

    @Test func preambleErrors() {
        #expect(readError([]) == "t.npy: truncated: expected a .npy file, found 0 bytes")
        #expect(readError(Array("PK\u{3}\u{4}abcdefgh".utf8)) == "t.npy at byte 0: not a .npy file: expected the magic \\x93NUMPY, found 'PK\\x03\\x04ab'")
        #expect(readError([0x93, 0x4E, 0x55]) == "t.npy at byte 3: truncated: expected at least 10 bytes of .npy preamble, found 3")
        var v4 = rawNpy("{}")
        v4[6] = 4
        #expect(readError(v4) == "t.npy at byte 6: unsupported format version: expected 1.0, 2.0 or 3.0, found 4.0")
        let long = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}" + String(repeating: " ", count: 10_000), major: 2, data: [0, 0, 0, 0])
        #expect(readError(long) == "t.npy at byte 8: header length 10055 exceeds the limit of 10000 bytes (raise NpyLimits.maxHeaderLength to read it)")
        #expect(readError(long, limits: NpyLimits(maxHeaderLength: 20_000)) == nil)
        #expect(readError(Array(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}").prefix(30))) == "t.npy at byte 30: truncated: the header length field says 55 bytes of header text, found 20")
    }

    @Test func dataSizeMustMatchShape() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        #expect(readError(rawNpy(header, data: [UInt8](repeating: 0, count: 20))) == "t.npy at byte 89: truncated: shape (2, 3) of float32 needs 24 data bytes, found 20")
        #expect(readError(rawNpy(header, data: [UInt8](repeating: 0, count: 28))) == "t.npy at byte 93: trailing data: shape (2, 3) of float32 needs 24 data bytes, found 28 (4 extra)")
        // a huge claimed shape never allocates: it is refused before anything is read
        let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"
        #expect(readError(rawNpy(huge, data: [0, 0, 0, 0])) == "t.npy at byte 83: truncated: shape (1000000000000,) of float32 needs 4000000000000 data bytes, found 4")
    }

    @Test func encodesWhatNumpyWrites() {
        // lengths and texts np.save produces (numpy 2.4): 128 for 0-d and 1-d, header padded to 64
        let zeroD = NpyHeader.encode(dtype: .float32, byteOrder: .little, fortranOrder: false, shape: [])
        #expect(zeroD.count == 128)
        #expect(String(decoding: zeroD[10...], as: UTF8.self).hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (), }    "))
        #expect(zeroD.last == UInt8(ascii: "\n"))
        let fortran = NpyHeader.encode(dtype: .int16, byteOrder: .big, fortranOrder: true, shape: [2, 30])
        let text = String(decoding: fortran[10...], as: UTF8.self)
        #expect(text.hasPrefix("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 30), }" + String(repeating: " ", count: 19)))
        #expect(fortran.count % 64 == 0)
        #expect(Array(fortran[6..<10]) == [1, 0, UInt8((fortran.count - 10) & 0xFF), UInt8((fortran.count - 10) >> 8)])
        // a header that does not fit 65,535 bytes uses version 2.0
        let big = NpyHeader.encode(dtype: .uint8, byteOrder: .notApplicable, fortranOrder: false, shape: [Int](repeating: 1, count: 22_000))
        #expect(big[6] == 2)
        #expect(big.count % 64 == 0)
    }
}
