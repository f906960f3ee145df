import Testing
@testable import NpyIO

@Suite struct NpyDTypeTests {
    @Test func descrStringsRoundTrip() {
        let cases: [(String, NpyDType, NpyByteOrder, String)] = [
            ("|b1", .bool, .notApplicable, "bool"), ("|i1", .int8, .notApplicable, "int8"),
            ("<i2", .int16, .little, "int16"), (">i4", .int32, .big, "int32"), ("<i8", .int64, .little, "int64"),
            ("|u1", .uint8, .notApplicable, "uint8"), (">u2", .uint16, .big, "uint16"), ("<u4", .uint32, .little, "uint32"),
            (">u8", .uint64, .big, "uint64"), ("<f2", .float16, .little, "float16"), (">f4", .float32, .big, "float32"),
            ("<f8", .float64, .little, "float64"), ("<c8", .complex64, .little, "complex64"), (">c16", .complex128, .big, "complex128"),
            ("<U5", .unicode(length: 5), .little, "str160"), ("|S3", .bytes(length: 3), .notApplicable, "bytes24"),
        ]
        for (descr, dtype, order, name) in cases {
            guard case .success(let parsed) = NpyDType.parse(descr: descr) else {
                Issue.record("\(descr) refused")
                continue
            }
            #expect(parsed.0 == dtype && parsed.1 == order, "\(descr)")
            #expect(dtype.descr(byteOrder: order) == descr)
            #expect(dtype.description == name)
        }
    }

    @Test func nativeAndPipeOrdersNormaliseAsNumpyDoes() throws {
        #expect(try NpyDType.parse(descr: "=f4").get() == (.float32, .little))
        #expect(try NpyDType.parse(descr: "f8").get() == (.float64, .little))
        #expect(try NpyDType.parse(descr: "<u1").get() == (.uint8, .notApplicable))
        #expect(try NpyDType.parse(descr: ">S2").get() == (.bytes(length: 2), .notApplicable))
    }

    @Test func refusals() {
        #expect(NpyDType.parse(descr: "|O").failure == .object)
        #expect(NpyDType.parse(descr: "|V8").failure == .unsupported("a void (raw or structured) dtype"))
        #expect(NpyDType.parse(descr: "<f16").failure == .unsupported("long double"))
        for bad in ["", "<", "<f", "<f4x", "<i3", "<x4", "<f-4", "<U99999999999"] {
            #expect(NpyDType.parse(descr: bad).failure == .unknown, "\(bad)")
        }
    }

    @Test func classification() {
        #expect(NpyDType.int8.isInteger && !NpyDType.bool.isInteger && NpyDType.bool.isNumeric)
        #expect(NpyDType.float16.isFloatingPoint && !NpyDType.complex64.isFloatingPoint && NpyDType.complex128.isComplex)
        #expect(!NpyDType.unicode(length: 2).isNumeric && NpyDType.unicode(length: 2).itemSize == 8)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
