import Dispatch

/// Tight conversion loops from stored element bytes to native values, one per source dtype.
///
/// Sources may be unaligned and in either byte order: every element is read with `loadUnaligned`
/// (no undefined behaviour) and byte-swapped when `swapped`. Large conversions are split across the
/// CPU cores.
enum ElementKernels {
    /// Elements per parallel task; below 2× this the conversion runs on the calling thread.
    static let parallelGrain = 1 << 20

    /// Runs `body` over `0..<count` split into contiguous ranges, in parallel when large.
    static func forEachChunk(count: Int, _ body: (Range<Int>) -> Void) {
        let cores = onlineCores
        guard count >= 2 * parallelGrain, cores > 1 else {
            body(0..<count)
            return
        }
        let tasks = min(cores * 4, (count + parallelGrain - 1) / parallelGrain)
        let step = (count + tasks - 1) / tasks
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                let start = task * step
                body(start..<min(count, start + step))
            }
        }
    }

    @inline(__always)
    private static func map<S: FixedWidthInteger, D>(
        _ source: UnsafeRawPointer, _ count: Int, _: S.Type, swapped: Bool,
        into destination: UnsafeMutablePointer<D>, _ transform: (S) -> D
    ) {
        let size = MemoryLayout<S>.size
        if swapped {
            for i in 0..<count {
                destination[i] = transform(source.loadUnaligned(fromByteOffset: i &* size, as: S.self).byteSwapped)
            }
        } else {
            for i in 0..<count {
                destination[i] = transform(source.loadUnaligned(fromByteOffset: i &* size, as: S.self))
            }
        }
    }

    /// Converts `count` contiguous elements of a real numeric dtype (bool, ints, floats) to Float.
    /// bool → 0/1 (any nonzero byte is true); integers and float64 round to nearest even.
    /// The caller guarantees the dtype is real numeric and the buffers hold `count` elements.
    static func toFloat32(_ source: UnsafeRawPointer, count: Int, dtype: NpyDType, byteOrder: NpyByteOrder,
                          into destination: UnsafeMutablePointer<Float>) {
        let swapped = byteOrder == .big
        let size = dtype.itemSize
        forEachChunk(count: count) { range in
            let src = source + range.lowerBound * size, dst = destination + range.lowerBound, n = range.count
            switch dtype {
            case .bool: map(src, n, UInt8.self, swapped: false, into: dst) { $0 == 0 ? 0 : 1 }
            case .int8: map(src, n, Int8.self, swapped: false, into: dst) { Float($0) }
            case .uint8: map(src, n, UInt8.self, swapped: false, into: dst) { Float($0) }
            case .int16: map(src, n, Int16.self, swapped: swapped, into: dst) { Float($0) }
            case .uint16: map(src, n, UInt16.self, swapped: swapped, into: dst) { Float($0) }
            case .int32: map(src, n, Int32.self, swapped: swapped, into: dst) { Float($0) }
            case .uint32: map(src, n, UInt32.self, swapped: swapped, into: dst) { Float($0) }
            case .int64: map(src, n, Int64.self, swapped: swapped, into: dst) { Float($0) }
            case .uint64: map(src, n, UInt64.self, swapped: swapped, into: dst) { Float($0) }
            case .float16: map(src, n, UInt16.self, swapped: swapped, into: dst) { HalfFloat.toFloat($0) }
            case .float32:
                if swapped {
                    map(src, n, UInt32.self, swapped: true, into: dst) { Float(bitPattern: $0) }
                } else {
                    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
                }
            case .float64: map(src, n, UInt64.self, swapped: swapped, into: dst) { Float(Double(bitPattern: $0)) }
            case .complex64, .complex128, .unicode, .bytes:
                preconditionFailure("toFloat32 called for \(dtype)")
            }
        }
    }

    /// Converts `count` contiguous elements of a real numeric dtype to Double (exact for all but
    /// int64/uint64 beyond 2^53, which round to nearest even).
    static func toFloat64(_ source: UnsafeRawPointer, count: Int, dtype: NpyDType, byteOrder: NpyByteOrder,
                          into destination: UnsafeMutablePointer<Double>) {
        let swapped = byteOrder == .big
        let size = dtype.itemSize
        forEachChunk(count: count) { range in
            let src = source + range.lowerBound * size, dst = destination + range.lowerBound, n = range.count
            switch dtype {
            case .bool: map(src, n, UInt8.self, swapped: false, into: dst) { $0 == 0 ? 0 : 1 }
            case .int8: map(src, n, Int8.self, swapped: false, into: dst) { Double($0) }
            case .uint8: map(src, n, UInt8.self, swapped: false, into: dst) { Double($0) }
            case .int16: map(src, n, Int16.self, swapped: swapped, into: dst) { Double($0) }
            case .uint16: map(src, n, UInt16.self, swapped: swapped, into: dst) { Double($0) }
            case .int32: map(src, n, Int32.self, swapped: swapped, into: dst) { Double($0) }
            case .uint32: map(src, n, UInt32.self, swapped: swapped, into: dst) { Double($0) }
            case .int64: map(src, n, Int64.self, swapped: swapped, into: dst) { Double($0) }
            case .uint64: map(src, n, UInt64.self, swapped: swapped, into: dst) { Double($0) }
            case .float16: map(src, n, UInt16.self, swapped: swapped, into: dst) { Double(HalfFloat.toFloat($0)) }
            case .float32: map(src, n, UInt32.self, swapped: swapped, into: dst) { Double(Float(bitPattern: $0)) }
            case .float64: map(src, n, UInt64.self, swapped: swapped, into: dst) { Double(bitPattern: $0) }
            case .complex64, .complex128, .unicode, .bytes:
                preconditionFailure("toFloat64 called for \(dtype)")
            }
        }
    }

    /// Converts `count` contiguous bool or integer elements to Int. Returns the index of the first
    /// uint64 element above `Int.max` (the caller reports it), or nil when all fit.
    static func toInt(_ source: UnsafeRawPointer, count: Int, dtype: NpyDType, byteOrder: NpyByteOrder,
                      into destination: UnsafeMutablePointer<Int>) -> Int? {
        let swapped = byteOrder == .big
        switch dtype {
        case .bool: map(source, count, UInt8.self, swapped: false, into: destination) { $0 == 0 ? 0 : 1 }
        case .int8: map(source, count, Int8.self, swapped: false, into: destination) { Int($0) }
        case .uint8: map(source, count, UInt8.self, swapped: false, into: destination) { Int($0) }
        case .int16: map(source, count, Int16.self, swapped: swapped, into: destination) { Int($0) }
        case .uint16: map(source, count, UInt16.self, swapped: swapped, into: destination) { Int($0) }
        case .int32: map(source, count, Int32.self, swapped: swapped, into: destination) { Int($0) }
        case .uint32: map(source, count, UInt32.self, swapped: swapped, into: destination) { Int($0) }
        case .int64: map(source, count, Int64.self, swapped: swapped, into: destination) { Int($0) }
        case .uint64:
            for i in 0..<count {
                var value = source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                if swapped { value = value.byteSwapped }
                guard value <= UInt64(Int.max) else { return i }
                destination[i] = Int(value)
            }
        default:
            preconditionFailure("toInt called for \(dtype)")
        }
        return nil
    }

    /// Copies the elements with C-order flat indices `range` of a Fortran-order array into `destination`
    /// in C order (element bytes unchanged). `shape` is the array's shape; `itemSize` its element size.
    static func gatherFortran(_ source: UnsafeRawPointer, shape: [Int], itemSize: Int, range: Range<Int>,
                              into destination: UnsafeMutableRawPointer) {
        guard !range.isEmpty else { return }
        let rank = shape.count
        var strides = [Int](repeating: 1, count: rank)  // Fortran strides in elements
        for axis in 1..<max(rank, 1) where rank > 1 { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        var index = [Int](repeating: 0, count: rank)     // C-order multi-index of range.lowerBound
        var rest = range.lowerBound
        var offset = 0
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
            offset += index[axis] * strides[axis]
        }
        let last = rank - 1
        let lastStride = strides[last] * itemSize
        let lastLength = shape[last]
        var written = 0
        var byteOffset = offset * itemSize
        while written < range.count {
            let run = min(lastLength - index[last], range.count - written)
            switch itemSize {
            case 4:
                for k in 0..<run {
                    let value = source.loadUnaligned(fromByteOffset: byteOffset + k * lastStride, as: UInt32.self)
                    destination.storeBytes(of: value, toByteOffset: (written + k) * 4, as: UInt32.self)
                }
            case 8:
                for k in 0..<run {
                    let value = source.loadUnaligned(fromByteOffset: byteOffset + k * lastStride, as: UInt64.self)
                    destination.storeBytes(of: value, toByteOffset: (written + k) * 8, as: UInt64.self)
                }
            default:
                for k in 0..<run {
                    (destination + (written + k) * itemSize).copyMemory(from: source + byteOffset + k * lastStride, byteCount: itemSize)
                }
            }
            written += run
            // advance the odometer past the run
            index[last] += run
            byteOffset += run * lastStride
            var axis = last
            while axis > 0 && index[axis] == shape[axis] {
                byteOffset -= shape[axis] * strides[axis] * itemSize
                index[axis] = 0
                axis -= 1
                index[axis] += 1
                byteOffset += strides[axis] * itemSize
            }
        }
    }

    /// Online processors (at least 1), read once.
    static let onlineCores: Int = {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
