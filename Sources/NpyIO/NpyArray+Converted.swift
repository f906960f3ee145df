/// Converting whole arrays to another dtype for writing.
extension NpyArray {
    /// The same values as a little-endian, C-order array of `dtype`, like numpy's `astype` followed by
    /// `ascontiguousarray`.
    ///
    /// Supported targets: float16, float32, float64 (from any bool/integer/float array; each element
    /// is rounded once, to nearest even) and int64 (from bool/integer arrays). Converting to the array's
    /// own dtype (any dtype) normalises byte order and memory order.
    ///
    /// - Throws: `NpyError` naming the origin for other targets or sources (complex, strings, float → int),
    ///   and for uint64 values above `Int64.max` when converting to int64.
    public func converted(to target: NpyDType) throws -> NpyArray {
        let outputSource = ErrorContext(file: "<memory>")
        func make(_ fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> NpyArray {
            let storage = try ByteStorage.filling(count: count * target.itemSize, fill)
            return NpyArray(dtype: target, byteOrder: target.nativeByteOrder, shape: shape, fortranOrder: false,
                            region: ByteRegion(storage: storage), source: outputSource)
        }
        if target == dtype {
            let unit: Int
            switch dtype {
            case .complex64: unit = 4
            case .complex128: unit = 8
            case .unicode: unit = 4
            default: unit = dtype.hasNoByteOrder ? 1 : dtype.itemSize
            }
            let swap = byteOrder == .big && unit > 1
            return make { out in
                guard out.count > 0 else { return }
                withCOrderBytes(in: 0..<count) { out.baseAddress!.copyMemory(from: $0, byteCount: out.count) }
                if swap { NpyArray.reverseUnits(out, unit: unit) }
            }
        }
        switch target {
        case .float32:
            let values = try float32Elements()
            return NpyArray(float32: values, shape: shape)
        case .float64:
            let values = try float64Elements()
            return NpyArray(float64: values, shape: shape)
        case .float16:
            let values = try float64Elements()
            return NpyArray(float16Bits: values.map { Float16($0).bitPattern }, shape: shape)
        case .int64:
            let values = try intElements()
            return NpyArray(int64: values.map(Int64.init), shape: shape)
        default:
            throw source.error("cannot convert \(dtype) to \(target); supported targets are float16, float32, float64 and int64")
        }
    }

    /// Reverses the bytes of each `unit`-byte group of `buffer` in place (byte-order swap).
    static func reverseUnits(_ buffer: UnsafeMutableRawBufferPointer, unit: Int) {
        var start = 0
        while start + unit <= buffer.count {
            var low = start, high = start + unit - 1
            while low < high { buffer.swapAt(low, high); low += 1; high -= 1 }
            start += unit
        }
    }
}
