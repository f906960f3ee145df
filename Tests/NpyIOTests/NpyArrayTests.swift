import Testing
import TestSupport
@testable import NpyIO

/// Little-endian bytes of `values`.
func leBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value.littleEndian >> ($0 * 8)) } }
}

@Suite struct NpyArrayTests {
    @Test func float32InPlaceIsZeroCopy() throws {
        let array = NpyArray(float32: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(array.isFloat32InPlace)
        let base = array.withUnsafeRawBytes { UnsafeRawPointer($0.baseAddress!) }
        try array.withFloat32Elements(in: 2..<5) { floats in
            #expect(Array(floats) == [3, 4, 5])
            #expect(UnsafeRawPointer(floats.baseAddress!) == base + 8)
        }
        #expect(try array.float32Elements() == [1, 2, 3, 4, 5, 6])
    }

    @Test func bigEndianAndIntegerConversions() throws {
        let be = try NpyArray(dtype: .float32, byteOrder: .big, shape: [2], fortranOrder: false,
                              bytes: [0x3F, 0x80, 0, 0, 0xC0, 0x00, 0, 0])
        #expect(!be.isFloat32InPlace)
        #expect(try be.float32Elements() == [1, -2])
        #expect(try be.float64Elements() == [1, -2])
        let i16 = try NpyArray(dtype: .int16, byteOrder: .big, shape: [3], fortranOrder: false, bytes: [0xFF, 0xFE, 0, 5, 0x80, 0])
        #expect(try i16.intElements() == [-2, 5, -32768])
        #expect(try i16.float32Elements() == [-2, 5, -32768])
        let u64 = try NpyArray(dtype: .uint64, byteOrder: .little, shape: [2], fortranOrder: false, bytes: leBytes([UInt64(3), UInt64.max]))
        #expect(throws: NpyError(file: "<memory>", message: "element 1 is 18446744073709551615, which does not fit a 64-bit signed integer")) {
            try u64.intElements()
        }
        #expect(try u64.float64Elements() == [3, 18446744073709551615.0])
        let flags = NpyArray(bool: [true, false, true], shape: [3])
        #expect(try flags.float32Elements() == [1, 0, 1])
        #expect(try flags.intElements() == [1, 0, 1])
        let i64 = NpyArray(int64: [Int64(1) << 53 + 1, -7], shape: [2])
        #expect(try i64.float32Elements() == [Float(9007199254740993 as Int64), -7])
    }

    @Test func float64RoundsToNearestEven() throws {
        let values: [Double] = [1 + 0x1p-24, 1 + 0x1p-24 + 0x1p-40, .nan, -.infinity, 1e-46, -0.0, 3.4028235677973366e38]
        let array = NpyArray(float64: values, shape: [values.count])
        let result = try array.float32Elements()
        #expect(result[0] == 1)
        #expect(result[1] == 1 + 0x1p-23)
        #expect(result[2].isNaN)
        #expect(result[3] == -.infinity)
        #expect(result[4] == 0)
        #expect(result[5].sign == .minus && result[5] == 0)
        #expect(result[6] == .infinity)
    }

    @Test func float16ConversionMatchesHardwareForAllBitPatterns() throws {
        let bits = (0...UInt16.max).map { $0 }
        let array = NpyArray(float16Bits: bits, shape: [bits.count])
        let converted = try array.float32Elements()
        var mismatches = 0
        for (index, pattern) in bits.enumerated() {
            let reference = Float(Float16(bitPattern: pattern))
            let got = converted[index]
            let same = reference.isNaN ? (got.isNaN && got.sign == reference.sign) : got.bitPattern == reference.bitPattern
            if !same {
                mismatches += 1
                if mismatches < 5 { Issue.record("half 0x\(String(pattern, radix: 16)): expected \(reference), found \(got)") }
            }
        }
        #expect(mismatches == 0)
        // big-endian halves: 1.0 is 0x3C00, smallest subnormal 0x0001 = 2^-24
        let be = try NpyArray(dtype: .float16, byteOrder: .big, shape: [2], fortranOrder: false, bytes: [0x3C, 0x00, 0x00, 0x01])
        #expect(try be.float32Elements() == [1, 0x1p-24])
    }

    @Test func fortranOrderIsReturnedInCOrder() throws {
        // numpy: a = np.arange(24).reshape(2, 3, 4); file data = a.T.tobytes() (Fortran order)
        var fortranData: [Int32] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { fortranData.append(Int32(i * 12 + j * 4 + k)) } } }
        let array = try NpyArray(dtype: .int32, byteOrder: .little, shape: [2, 3, 4], fortranOrder: true, bytes: leBytes(fortranData))
        #expect(!array.isCContiguous)
        #expect(try array.intElements() == Array(0..<24))
        #expect(try array.float32Elements() == (0..<24).map(Float.init))
        for range in [0..<24, 5..<19, 11..<12, 3..<3] {
            let chunk = try array.withFloat32Elements(in: range) { Array($0) }
            #expect(chunk == range.map(Float.init), "range \(range)")
        }
        // a Fortran array with one non-trivial axis is laid out like C order
        let column = try NpyArray(dtype: .int32, byteOrder: .little, shape: [3, 1], fortranOrder: true, bytes: leBytes([Int32(1), 2, 3]))
        #expect(column.isCContiguous)
        #expect(try column.intElements() == [1, 2, 3])
    }

    @Test func stringsAndRefusals() throws {
        #expect(try NpyArray(string: "héllo ✓").stringScalar() == "héllo ✓")
        let empty = NpyArray(string: "")
        #expect(empty.dtype == .unicode(length: 1))
        #expect(try empty.stringScalar() == "")
        let bytes = try NpyArray(dtype: .bytes(length: 4), byteOrder: .notApplicable, shape: [], fortranOrder: false, bytes: [0x61, 0x62, 0, 0])
        #expect(try bytes.stringScalar() == "ab")
        let be = try NpyArray(dtype: .unicode(length: 2), byteOrder: .big, shape: [], fortranOrder: false, bytes: [0, 0, 0, 0x41, 0, 0, 0, 0])
        #expect(try be.stringScalar() == "A")
        #expect(throws: NpyError(file: "<memory>", message: "expected a string array (numpy U or S dtype), found float32")) {
            try NpyArray(float32: [1], shape: []).stringScalar()
        }
        #expect(throws: NpyError(file: "<memory>", message: "cannot convert str32 elements to float32; expected a bool, integer or float array")) {
            try empty.float32Elements()
        }
        #expect(throws: NpyError(file: "<memory>", message: "expected an integer or bool array, found float32")) {
            try NpyArray(float32: [1], shape: [1]).intElements()
        }
        let complex = try NpyArray(dtype: .complex64, byteOrder: .little, shape: [1], fortranOrder: false, bytes: [UInt8](repeating: 0, count: 8))
        #expect(throws: NpyError(file: "<memory>", message: "cannot convert complex64 elements to float64; expected a bool, integer or float array")) {
            try complex.float64Elements()
        }
    }

    @Test func rawInitialiserChecksSizeAndByteOrder() {
        #expect(throws: NpyError(file: "<memory>", message: "shape (2, 2) of float32 needs 16 bytes, found 12")) {
            try NpyArray(dtype: .float32, byteOrder: .little, shape: [2, 2], fortranOrder: false, bytes: [UInt8](repeating: 0, count: 12))
        }
        #expect(throws: NpyError(file: "<memory>", message: "byte order little does not fit uint8: expected notApplicable")) {
            try NpyArray(dtype: .uint8, byteOrder: .little, shape: [1], fortranOrder: false, bytes: [1])
        }
        #expect(throws: NpyError(file: "<memory>", message: "shape (-1,): dimension 0 is negative")) {
            try NpyArray(dtype: .uint8, byteOrder: .notApplicable, shape: [-1], fortranOrder: false, bytes: [])
        }
    }

    @Test func convertedProducesLittleEndianCOrder() throws {
        let source = try NpyArray(dtype: .float64, byteOrder: .big, shape: [2, 2], fortranOrder: true,
                                  bytes: [1.0, 3.0, 2.0, 4.0].flatMap { leBytes([$0.bitPattern]).reversed() })
        let f32 = try source.converted(to: .float32)
        #expect(f32.dtype == .float32 && f32.byteOrder == .little && !f32.isFortranOrder)
        #expect(try f32.float32Elements() == [1, 2, 3, 4])
        let f16 = try source.converted(to: .float16)
        #expect(f16.bytes == leBytes([UInt16(0x3C00), 0x4000, 0x4200, 0x4400]))
        // half rounding: 1 + 2^-11 is a tie → even (1.0); 65520 overflows to inf
        let ties = try NpyArray(float64: [1 + 0x1p-11, 65520, 0x1p-25 + 0x1p-30], shape: [3]).converted(to: .float16)
        #expect(ties.bytes == leBytes([UInt16(0x3C00), 0x7C00, 0x0001]))
        let same = try source.converted(to: .float64)
        #expect(same.byteOrder == .little && !same.isFortranOrder)
        #expect(try same.float64Elements() == [1, 2, 3, 4])
        #expect(throws: NpyError(file: "<memory>", message: "expected an integer or bool array, found float64")) {
            try source.converted(to: .int64)
        }
    }
}
