import NpyIO
import Testing
@testable import Fusion

/// `Tensor`'s storage: Swift arrays, arrays read in place from an `NpyArray`, and windows of both.
@Suite struct TensorTests {
    /// A little-endian float32 array inside an archive, 64-byte aligned (read in place) or not.
    /// (The archive's bytes are copied to a 64-byte aligned buffer, so file offsets are addresses
    /// modulo 64; with alignment 1, the member named "ab" lands at file offset 333, as numpy would
    /// place it.)
    static func member(_ values: [Float], shape: [Int], alignment: Int, name: String = "a") throws -> NpyArray {
        var writer = NpzWriter(alignment: alignment)
        writer.add("pad", NpyArray(float32: [1], shape: [1]))
        writer.add(name, NpyArray(float32: values, shape: shape))
        return try NpzArchive(bytes: try writer.encode(), origin: "t.npz").array(named: name)
    }

    @Test func anAlignedFloat32ArrayIsReadInPlace() throws {
        let values = (0..<12).map { Float($0) * 0.5 - 2 }
        let array = try Self.member(values, shape: [3, 4], alignment: 64)
        #expect(array.isFloat32InPlace)
        let tensor = try Tensor(array)
        #expect(tensor.isReadInPlace && tensor.shape == [3, 4] && tensor.count == 12)
        #expect(tensor.values == values)
        let sameMemory = tensor.withUnsafeBufferPointer { floats in
            array.withUnsafeRawBytes { UnsafeRawPointer(floats.baseAddress) == $0.baseAddress }
        }
        #expect(sameMemory)
        #expect(tensor == Tensor(shape: [3, 4], values: values))
    }

    @Test func unalignedFloat32IsReadInPlaceAndCopiedOnlyForFloatPointers() throws {
        let values: [Float] = [1.5, -2, 0x1p-20, 3, -0.0, 7]
        let unaligned = try Self.member(values, shape: [3, 2], alignment: 1, name: "ab")
        #expect(unaligned.withUnsafeRawBytes { Int(bitPattern: $0.baseAddress) % 4 } == 1)
        #expect(!unaligned.isFloat32InPlace && unaligned.isFloat32Bytes)
        let tensor = try Tensor(unaligned)
        #expect(tensor.isReadInPlace)
        // The raw elements are the archive's bytes themselves (no copy), at the odd address.
        let raw = tensor.withUnsafeRawElements { Int(bitPattern: $0) }
        #expect(raw == unaligned.withUnsafeRawBytes { Int(bitPattern: $0.baseAddress) })
        #expect(raw % 4 == 1)
        let row = tensor.rows(1..<3)
        #expect(row.withUnsafeRawElements { Int(bitPattern: $0) } == raw + 8)
        // Float pointers get an aligned copy with the same bits.
        #expect(tensor.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) % 4 } == 0)
        #expect(tensor.values.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(row.values.map(\.bitPattern) == values[2...].map(\.bitPattern))
    }

    @Test func otherArraysAreConvertedOnce() throws {
        let values: [Float] = [1.5, -2, 0x1p-20, 3]
        let cases: [(String, NpyArray)] = [
            ("float64", NpyArray(float64: values.map(Double.init), shape: [2, 2])),
            ("float16", try NpyArray(float32: values, shape: [2, 2]).converted(to: .float16)),
            ("big-endian", try NpyArray(dtype: .float32, byteOrder: .big, shape: [2, 2], fortranOrder: false,
                                        bytes: values.flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init) })),
            ("Fortran order", try NpyArray(dtype: .float32, byteOrder: .little, shape: [2, 2], fortranOrder: true,
                                           bytes: [values[0], values[2], values[1], values[3]].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })),
        ]
        for (name, array) in cases {
            let tensor = try Tensor(array)
            #expect(!tensor.isReadInPlace, "\(name)")
            #expect(tensor.shape == [2, 2] && tensor.values == values, "\(name): \(tensor.values)")
        }
        #expect(throws: NpyError.self) { try Tensor(NpyArray(string: "not numbers")) }
    }

    @Test func rowsShareStorageAndWritesCopyOnce() throws {
        let values = (0..<24).map(Float.init)
        for source in [Tensor(shape: [4, 2, 3], values: values), try Tensor(Self.member(values, shape: [4, 2, 3], alignment: 64))] {
            let middle = source.rows(1..<3)
            #expect(middle.shape == [2, 2, 3] && middle.count == 12 && middle.isReadInPlace == source.isReadInPlace)
            #expect(middle.values == Array(values[6..<18]))
            let shared = source.withUnsafeBufferPointer { all in middle.withUnsafeBufferPointer { $0.baseAddress == all.baseAddress! + 6 } }
            #expect(shared)
            #expect(middle.rows(1..<2).values == Array(values[12..<18]))
            #expect(source.rows(4..<4).count == 0)
            var written = middle
            written.values[0] = -1
            #expect(written.values == [-1] + Array(values[7..<18]) && !written.isReadInPlace)
            #expect(middle.values == Array(values[6..<18]) && source.values == values)  // untouched
        }
    }

    @Test func writingAWholeArrayTensorDoesNotCopyOrLeak() {
        var tensor = Tensor(shape: [3], values: [1, 2, 3])
        let copy = tensor
        tensor.values[1] = 20
        #expect(tensor.values == [1, 20, 3] && copy.values == [1, 2, 3])
        tensor.values = [7, 8]
        #expect(tensor.count == 2)
        var zeros = Tensor(zeros: [2, 2])
        zeros.values.withUnsafeMutableBufferPointer { $0[3] = 5 }
        #expect(zeros.values == [0, 0, 0, 5])
    }

    @Test func equalityComparesShapesAndElements() {
        let a = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        #expect(a == Tensor(shape: [2, 2], values: [1, 2, 3, 4]))
        #expect(a != Tensor(shape: [4], values: [1, 2, 3, 4]))
        #expect(a != Tensor(shape: [2, 2], values: [1, 2, 3, 5]))
        #expect(a.rows(0..<1) == Tensor(shape: [1, 2], values: [1, 2]))
        #expect(Tensor(shape: [1], values: [0]) == Tensor(shape: [1], values: [-0.0]))
    }
}
