/// Reading elements as native Swift values. All accessors return elements in C (row-major) order,
/// whatever the stored order and byte order; none of them changes the array.
extension NpyArray {
    /// Throws unless the dtype is bool, an integer or a float (what can become float32/float64).
    private func requireReal(for target: String) throws {
        guard dtype.isNumeric && !dtype.isComplex else {
            throw source.error("cannot convert \(dtype) elements to \(target); expected a bool, integer or float array")
        }
    }

    /// Calls `body` with the raw bytes of elements `range` (flat C-order indices) laid out in C order:
    /// in place when the array is C-contiguous, otherwise gathered into a temporary buffer.
    func withCOrderBytes<R>(in range: Range<Int>, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        let size = dtype.itemSize
        if isCContiguous || range.isEmpty {
            return try region.withBytes { bytes in
                try body((bytes.baseAddress ?? UnsafeRawPointer(bitPattern: size == 0 ? 1 : size)!) + range.lowerBound * size)
            }
        }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: range.count * size, alignment: 64)
        defer { scratch.deallocate() }
        region.withBytes { bytes in
            ElementKernels.gatherFortran(bytes.baseAddress!, shape: shape, itemSize: size, range: range, into: scratch)
        }
        return try body(scratch)
    }

    /// All elements in C order converted to float32 (bool → 0/1; integers and float64 round to
    /// nearest even; float16 widened exactly). Copies; O(count).
    ///
    /// - Throws: `NpyError` naming the origin for complex, unicode and bytes arrays.
    public func float32Elements() throws -> [Float] {
        try requireReal(for: "float32")
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                withCOrderBytes(in: 0..<count) { pointer in
                    ElementKernels.toFloat32(pointer, count: count, dtype: dtype, byteOrder: byteOrder, into: buffer.baseAddress!)
                }
            }
            initialized = count
        }
    }

    /// Calls `body` with elements `range` (flat C-order indices) as float32: in place, without a copy,
    /// when `isFloat32InPlace`; otherwise converted (and for Fortran order, reordered) into a temporary
    /// buffer freed when `body` returns. The pointer must not escape `body`.
    ///
    /// - Precondition: `range` lies within `0..<count` (traps otherwise).
    /// - Throws: `NpyError` for complex, unicode and bytes arrays; rethrows what `body` throws.
    public func withFloat32Elements<R>(in range: Range<Int>, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "withFloat32Elements: range \(range) outside 0..<\(count) of \(origin)")
        try requireReal(for: "float32")
        if isFloat32InPlace {
            return try region.withBytes { bytes in
                guard let base = bytes.baseAddress, !range.isEmpty else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
                let floats = base.bindMemory(to: Float.self, capacity: count)
                return try body(UnsafeBufferPointer(start: floats + range.lowerBound, count: range.count))
            }
        }
        guard !range.isEmpty else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: range.count)
        defer { scratch.deallocate() }
        withCOrderBytes(in: range) { pointer in
            ElementKernels.toFloat32(pointer, count: range.count, dtype: dtype, byteOrder: byteOrder, into: scratch)
        }
        return try body(UnsafeBufferPointer(start: scratch, count: range.count))
    }

    /// Calls `body` with all elements as float32 read in place from the stored bytes (no copy, no
    /// check of the dtype per call). The pointer must not escape `body`.
    ///
    /// - Precondition: `isFloat32InPlace` (traps naming the origin otherwise).
    public func withFloat32InPlace<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(isFloat32InPlace, "withFloat32InPlace: \(self) is not little-endian float32 in C order at a 4-byte aligned address")
        return try region.withBytes { bytes in
            guard let base = bytes.baseAddress, count > 0 else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            return try body(UnsafeBufferPointer(start: base.bindMemory(to: Float.self, capacity: count), count: count))
        }
    }

    /// All elements in C order as float64 (exact for every real dtype except int64/uint64 beyond 2^53).
    ///
    /// - Throws: `NpyError` naming the origin for complex, unicode and bytes arrays.
    public func float64Elements() throws -> [Double] {
        try requireReal(for: "float64")
        return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                withCOrderBytes(in: 0..<count) { pointer in
                    ElementKernels.toFloat64(pointer, count: count, dtype: dtype, byteOrder: byteOrder, into: buffer.baseAddress!)
                }
            }
            initialized = count
        }
    }

    /// All elements of a bool or integer array in C order as Int (bool → 0/1).
    ///
    /// - Throws: `NpyError` naming the origin for float, complex and string arrays, and for a uint64
    ///   element above `Int.max` (naming its flat index and value).
    public func intElements() throws -> [Int] {
        guard dtype.isInteger || dtype == .bool else {
            throw source.error("expected an integer or bool array, found \(dtype)")
        }
        var overflowIndex: Int?
        let values = [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                overflowIndex = withCOrderBytes(in: 0..<count) { pointer in
                    ElementKernels.toInt(pointer, count: count, dtype: dtype, byteOrder: byteOrder, into: buffer.baseAddress!)
                }
            }
            initialized = overflowIndex == nil ? count : 0
        }
        if let index = overflowIndex {
            let raw = withCOrderBytes(in: index..<index + 1) { $0.loadUnaligned(as: UInt64.self) }
            throw source.error("element \(index) is \(byteOrder == .big ? raw.byteSwapped : raw), which does not fit a 64-bit signed integer")
        }
        return values
    }

    /// The string held by a 0-d (or one-element) `U<n>` or `S<n>` array, trailing NULs removed as numpy
    /// does. `U` is decoded from UCS-4 in the array's byte order, `S` as UTF-8.
    ///
    /// - Throws: `NpyError` naming the origin when the array is not a string array, holds other than
    ///   one element, or its code units are not valid Unicode / UTF-8.
    public func stringScalar() throws -> String {
        guard count == 1 else {
            throw source.error("expected a single string (0-d array), found shape \(NpyHeader.shapeRepr(shape)) with \(count) elements")
        }
        return try region.withBytes { bytes in
            switch dtype {
            case .unicode(let length):
                var scalars = String.UnicodeScalarView()
                var units = (0..<length).map { i -> UInt32 in
                    let unit = bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                    return byteOrder == .big ? unit.byteSwapped : unit
                }
                while units.last == 0 { units.removeLast() }
                for (index, unit) in units.enumerated() {
                    guard let scalar = Unicode.Scalar(unit) else {
                        throw source.error("code unit \(index) of the string is 0x\(String(unit, radix: 16)), not a Unicode scalar")
                    }
                    scalars.append(scalar)
                }
                return String(scalars)
            case .bytes:
                var raw = Array(bytes)
                while raw.last == 0 { raw.removeLast() }
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw source.error("the byte string is not valid UTF-8")
                }
                return text
            default:
                throw source.error("expected a string array (numpy U or S dtype), found \(dtype)")
            }
        }
    }
}
