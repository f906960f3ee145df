import NpyIO

/// NumPy arrays are float sources: elements are read through `NpyArray.withFloat32Elements`, in place
/// from the memory map for little-endian C-order float32 and converted once otherwise (float16/float64
/// round to float32, bool/integers become their values).
extension NpyArray: FloatSource {
    /// Calls `body` with elements `range` (flat row-major indices) as float32.
    /// - Throws: `NpyError` for complex, string and bytes arrays; rethrows what `body` throws.
    public func withElements<R>(
        in range: Range<Int>, _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) throws -> R {
        try withFloat32Elements(in: range, body)
    }

    /// Drops the resident pages of elements `range` when the array is memory-mapped from a file
    /// (see `NpyArray.releaseResidentPages(elements:)`).
    public func releaseResidentPages(in range: Range<Int>) {
        releaseResidentPages(elements: range)
    }
}
