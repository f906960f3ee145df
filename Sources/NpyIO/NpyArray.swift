/// An immutable n-d array as numpy stores it: dtype, byte order, shape, C or Fortran order, and the
/// raw element bytes, which live in a memory map, a heap buffer, or a slice of either (an .npz member).
///
/// Arrays read from files keep their bytes exactly as stored (no conversion on open); the accessors in
/// `NpyArray+Elements.swift` convert on demand.
public struct NpyArray: Sendable {
    /// Element type.
    public let dtype: NpyDType
    /// Byte order of the stored elements (`notApplicable` for single-byte types).
    public let byteOrder: NpyByteOrder
    /// Dimensions; `[]` for a 0-d array.
    public let shape: [Int]
    /// True when elements are stored in Fortran (column-major) order.
    public let isFortranOrder: Bool
    /// Number of elements: the product of `shape` (1 for 0-d, 0 when any dimension is 0).
    public let count: Int
    /// Where the array came from, for messages: a path, `w.npz:x` for a member, `<stdin>`, `<memory>`.
    public var origin: String { source.origin }
    /// The file (and member) the array came from, for errors about its contents.
    let source: ErrorContext
    /// The element bytes (exactly `count × dtype.itemSize`).
    let region: ByteRegion

    /// Number of data bytes: `count × dtype.itemSize`.
    public var byteCount: Int { region.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// True when the element bytes are in C order: not Fortran, or a shape where both orders coincide
    /// (at most one dimension larger than 1, or no elements).
    public var isCContiguous: Bool {
        !isFortranOrder || count == 0 || shape.filter { $0 != 1 }.count <= 1
    }

    /// True when the stored bytes are the elements as little-endian float32 in C order, at any
    /// address: a reader that loads them bytewise (the GEMM kernels' weights) needs no copy, even
    /// for a member that `np.savez` placed at an odd offset.
    public var isFloat32Bytes: Bool {
        dtype == .float32 && byteOrder == .little && isCContiguous
    }

    /// True when the data is native little-endian float32, C order and 4-byte aligned in place
    /// (no copy needed to view it as `[Float]`).
    public var isFloat32InPlace: Bool {
        dtype == .float32 && byteOrder == .little && isCContiguous
            && region.withBytes { Int(bitPattern: $0.baseAddress) % MemoryLayout<Float>.alignment == 0 }
    }

    /// The designated initialiser over stored bytes; the caller has checked sizes and orders.
    init(dtype: NpyDType, byteOrder: NpyByteOrder, shape: [Int], fortranOrder: Bool, region: ByteRegion, source: ErrorContext) {
        let count = NpyHeader.elementCount(shape)
        precondition(count != nil && count! * dtype.itemSize == region.count,
                     "\(source.origin): shape \(shape) of \(dtype) does not match \(region.count) bytes")
        self.dtype = dtype
        self.byteOrder = byteOrder
        self.shape = shape
        self.isFortranOrder = fortranOrder
        self.count = count!
        self.region = region
        self.source = source
    }

    /// Creates an array from raw element bytes as they would appear in a .npy file.
    ///
    /// - Parameters:
    ///   - byteOrder: must be `notApplicable` for bool/int8/uint8/`S<n>`, `little` or `big` otherwise.
    ///   - bytes: exactly `product(shape) × dtype.itemSize` bytes, in C order unless `fortranOrder`.
    /// - Throws: `NpyError` (file `<memory>`) for a negative dimension, an overflowing size, a byte
    ///   count that does not match the shape, or a byte order the dtype cannot have.
    public init(dtype: NpyDType, byteOrder: NpyByteOrder, shape: [Int], fortranOrder: Bool, bytes: [UInt8]) throws {
        let context = ErrorContext(file: "<memory>")
        if let bad = shape.firstIndex(where: { $0 < 0 }) {
            throw context.error("shape \(NpyHeader.shapeRepr(shape)): dimension \(bad) is negative")
        }
        guard let count = NpyHeader.elementCount(shape) else {
            throw context.error("shape \(NpyHeader.shapeRepr(shape)): the element count overflows a 64-bit integer")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow, needed == bytes.count else {
            throw context.error("shape \(NpyHeader.shapeRepr(shape)) of \(dtype) needs \(overflow ? "more than Int.max" : String(needed)) bytes, found \(bytes.count)")
        }
        if dtype.hasNoByteOrder != (byteOrder == .notApplicable) {
            throw context.error("byte order \(byteOrder) does not fit \(dtype): expected \(dtype.hasNoByteOrder ? "notApplicable" : "little or big")")
        }
        let storage = bytes.withUnsafeBytes { ByteStorage.copying($0) }
        self.init(dtype: dtype, byteOrder: byteOrder, shape: shape, fortranOrder: fortranOrder,
                  region: ByteRegion(storage: storage), source: ErrorContext(file: "<memory>"))
    }

    /// Builds a little-endian C-order array from typed values; traps when `values.count` differs
    /// from the product of `shape` (a broken caller contract).
    private init<T>(values: [T], dtype: NpyDType, shape: [Int]) {
        let count = NpyHeader.elementCount(shape)
        precondition(!shape.contains { $0 < 0 } && count == values.count,
                     "NpyArray: \(values.count) values do not fill shape \(NpyHeader.shapeRepr(shape))")
        precondition(MemoryLayout<T>.stride == dtype.itemSize, "element size mismatch for \(dtype)")
        let storage = values.withUnsafeBytes { ByteStorage.copying($0) }
        self.init(dtype: dtype, byteOrder: dtype.nativeByteOrder, shape: shape, fortranOrder: false,
                  region: ByteRegion(storage: storage), source: ErrorContext(file: "<memory>"))
    }

    /// A float32 array; `values` in C order, `values.count` must equal the product of `shape` (traps otherwise).
    public init(float32 values: [Float], shape: [Int]) { self.init(values: values, dtype: .float32, shape: shape) }
    /// A float64 array; `values` in C order, `values.count` must equal the product of `shape` (traps otherwise).
    public init(float64 values: [Double], shape: [Int]) { self.init(values: values, dtype: .float64, shape: shape) }
    /// A float16 array from raw IEEE half bit patterns in C order (traps when the count does not fit `shape`).
    public init(float16Bits values: [UInt16], shape: [Int]) { self.init(values: values, dtype: .float16, shape: shape) }
    /// An int64 array; `values` in C order (traps when the count does not fit `shape`).
    public init(int64 values: [Int64], shape: [Int]) { self.init(values: values, dtype: .int64, shape: shape) }
    /// An int32 array; `values` in C order (traps when the count does not fit `shape`).
    public init(int32 values: [Int32], shape: [Int]) { self.init(values: values, dtype: .int32, shape: shape) }
    /// A bool array stored as bytes 0/1; `values` in C order (traps when the count does not fit `shape`).
    public init(bool values: [Bool], shape: [Int]) {
        self.init(values: values.map { $0 ? UInt8(1) : 0 }, dtype: .bool, shape: shape)
    }

    /// A 0-d unicode array holding `string`, like `np.array(string)`: dtype `<U n` with n the number of
    /// Unicode scalars (at least 1, as numpy gives `<U1` for the empty string), NUL-padded.
    public init(string: String) {
        let scalars = string.unicodeScalars.map { $0.value }
        let length = max(1, scalars.count)
        let padded = scalars + [UInt32](repeating: 0, count: length - scalars.count)
        let storage = padded.withUnsafeBytes { ByteStorage.copying($0) }
        self.init(dtype: .unicode(length: length), byteOrder: .little, shape: [], fortranOrder: false,
                  region: ByteRegion(storage: storage), source: ErrorContext(file: "<memory>"))
    }

    /// Calls `body` with the stored element bytes (in the stored order and byte order); the pointer
    /// must not escape `body`.
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try region.withBytes(body)
    }

    /// A copy of the stored element bytes.
    public var bytes: [UInt8] { region.withBytes { Array($0) } }
}

extension NpyArray: CustomStringConvertible {
    /// E.g. `w.npz:x: float32 (2, 3) C order, 24 bytes`.
    public var description: String {
        "\(origin): \(dtype) \(NpyHeader.shapeRepr(shape)) \(isFortranOrder ? "Fortran" : "C") order, \(byteCount) bytes"
    }
}
