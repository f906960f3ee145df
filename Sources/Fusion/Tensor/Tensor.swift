import NpyIO

/// A dense float32 array in row-major (C) order.
///
/// Element `i` is the one whose index, read in row-major order over `shape`, is `i`; the number of
/// elements always equals the product of `shape`. Weights and results of the `Fusion` library are
/// `Tensor`s; inputs may be any ``FloatSource``.
///
/// Storage is shared and immutable until written: a tensor is either a window of a Swift `[Float]`
/// or, for weights loaded from a file, a window of a little-endian float32 `NpyArray` read in place
/// from its memory map (see ``init(_:)``; the map stays alive as long as any tensor using it).
/// ``rows(_:)`` cuts a window without copying in both cases. Read elements through
/// ``withUnsafeBufferPointer(_:)``, which never copies; ``values`` hands out a `[Float]`, which copies
/// unless the tensor is exactly one whole array, and writing through it makes the tensor own a copy.
public struct Tensor: Sendable {
    /// Extents, outermost first. `[]` is a scalar.
    public var shape: [Int]
    /// The array whose bytes are the elements, read in place (little-endian float32 in C order at any
    /// address, `NpyArray.isFloat32Bytes`); nil when `floats` holds them.
    ///
    /// Two stored properties rather than an enum with two payloads: such an enum keeps its case in
    /// the spare bits of the references it holds, which hides them from LeakSanitizer's pointer
    /// scan (it reported a model's in-place weights as leaked).
    private var inPlace: NpyArray?
    /// The Swift array the tensor is a window of, when `inPlace` is nil (empty otherwise).
    private var floats: [Float]
    /// Index in the storage of the tensor's element 0.
    private var first: Int
    /// The number of elements (product of `shape`).
    public private(set) var count: Int

    /// Wraps `values` as an array of `shape`.
    /// - Precondition: `values.count` is the product of `shape` (traps otherwise, naming both).
    public init(shape: [Int], values: [Float]) {
        precondition(
            values.count == elementCount(shape),
            "Tensor: \(values.count) values do not fill shape \(shapeText(shape))")
        self.shape = shape
        self.inPlace = nil
        self.floats = values
        self.first = 0
        self.count = values.count
    }

    /// A tensor of `shape` filled with zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: [Float](repeating: 0, count: elementCount(shape)))
    }

    /// The elements of `array` with its shape, read in place — no copy — when the array is
    /// little-endian float32 in C order (`NpyArray.isFloat32Bytes`), wherever it lies: a member of an
    /// archive written by `fusectl init` (64-byte aligned) or by `np.savez` (usually 1–3 bytes past a
    /// multiple of 4), a `.npy` file, an in-memory array; converted once to float32 otherwise
    /// (float16/float64 round to nearest, big-endian is swapped, Fortran order is reordered).
    /// ``withUnsafeRawElements(_:)`` reads such a tensor in place at any address;
    /// ``withUnsafeBufferPointer(_:)`` copies it for the closure when it is not 4-byte aligned.
    ///
    /// A tensor read in place keeps the array's bytes (for an archive, the whole file's memory map)
    /// alive while it exists, and sees the file as it is when read: replacing the file by renaming
    /// over it, as `np.savez` and `fusectl init` do, does not affect it; truncating it in place makes
    /// a later read fault (reported by the mapped-file SIGBUS handler).
    ///
    /// - Throws: `NpyError` naming the array's origin for complex, string and bytes arrays.
    public init(_ array: NpyArray) throws {
        shape = array.shape
        first = 0
        count = array.count
        if array.isFloat32Bytes {
            inPlace = array
            floats = []
        } else {
            inPlace = nil
            floats = try array.float32Elements()
        }
    }

    /// True when the elements are read in place from an `NpyArray` (such as a memory-mapped archive
    /// member) rather than held in a Swift array.
    public var isReadInPlace: Bool { inPlace != nil }

    /// Calls `body` with the elements in row-major order; no copy, except for elements read in place
    /// at an address that is not 4-byte aligned (an `np.savez` member), which are copied into a
    /// temporary aligned buffer for the call. The buffer is valid only inside `body` and must not
    /// escape it.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if let inPlace {
            if inPlace.isFloat32InPlace {
                return try inPlace.withFloat32InPlace { all in
                    try body(UnsafeBufferPointer(rebasing: all[first..<(first + count)]))
                }
            }
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            defer { copy.deallocate() }
            withUnsafeRawElements { raw in
                UnsafeMutableRawPointer(copy).copyMemory(from: raw, byteCount: count * MemoryLayout<Float>.size)
            }
            return try body(UnsafeBufferPointer(start: copy, count: count))
        }
        return try floats.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[first..<(first + count)]))
        }
    }

    /// Calls `body` with the address of element 0 (then element i at byte offset 4·i, little-endian
    /// float32), without copying, whatever the alignment: for readers that load bytewise (the GEMM
    /// kernels' `const void *` weights). The pointer must not escape `body`.
    public func withUnsafeRawElements<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        if let inPlace {
            return try inPlace.withUnsafeRawBytes { bytes in
                try body(bytes.baseAddress! + first * MemoryLayout<Float>.size)
            }
        }
        return try floats.withUnsafeBufferPointer { all in
            try body(UnsafeRawPointer(all.baseAddress! + first))
        }
    }

    /// The elements in row-major order as a Swift array.
    ///
    /// Reading returns the stored array itself when the tensor is one whole `[Float]` (no copy) and a
    /// copy otherwise (a window, or elements read in place). Writing replaces the elements: the tensor
    /// then owns a `[Float]` and `count` becomes `newValue.count` (keep it equal to the product of
    /// `shape`); in-place element writes (`values[i] = x`) copy a window or an in-place tensor once,
    /// and never touch the `NpyArray` or another tensor sharing the storage.
    public var values: [Float] {
        get {
            if inPlace == nil, first == 0, floats.count == count {
                return floats
            }
            return withUnsafeBufferPointer { Array($0) }
        }
        set {
            inPlace = nil
            floats = newValue
            first = 0
            count = newValue.count
        }
        _modify {
            var owned: [Float]
            if inPlace == nil, first == 0, floats.count == count {
                owned = floats
                floats = []  // drop the second reference, so the array is unique
            } else {
                owned = withUnsafeBufferPointer { Array($0) }
            }
            defer {
                inPlace = nil
                floats = owned
                first = 0
                count = owned.count
            }
            yield &owned
        }
    }

    /// Rows `range` of the outermost axis, shape `[range.count] + shape[1...]`, sharing this tensor's
    /// storage (no copy).
    /// - Precondition: the tensor has at least one axis and `range` lies within `0..<shape[0]` (traps
    ///   naming both).
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(
            !shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0],
            "Tensor.rows: rows \(range) of shape \(shapeText(shape))")
        let rowSize = elementCount(Array(shape.dropFirst()))
        var slice = self
        slice.shape[0] = range.count
        slice.first = first + range.lowerBound * rowSize
        slice.count = range.count * rowSize
        return slice
    }

    /// The shape as NumPy prints it, e.g. `(2, 1, 36)`.
    public var shapeDescription: String { shapeText(shape) }
}

extension Tensor: Equatable {
    /// Equal shapes and equal elements (float `==`: `-0 == 0`, NaN differs from everything, except
    /// that a tensor's storage compared with itself is equal, as for `[Float]`).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape, lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in
                a.baseAddress == b.baseAddress || a.elementsEqual(b)
            }
        }
    }
}
