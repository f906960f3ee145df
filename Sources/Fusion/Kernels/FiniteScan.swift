import FusionKernels

/// The index of the first NaN or ±Inf in `values`, or nil when every element is finite
/// (`fk_first_nonfinite`: one vectorised pass over the memory when all are finite).
func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
    guard let base = values.baseAddress, !values.isEmpty else { return nil }
    return firstNonFinite(UnsafeRawPointer(base), count: values.count)
}

/// The index of the first NaN or ±Inf among `count` little-endian float32 values starting at
/// `elements`, at any byte address (a weights tensor read in place from an `np.savez` archive is
/// checked without a copy), or nil when every element is finite.
func firstNonFinite(_ elements: UnsafeRawPointer, count: Int) -> Int? {
    let index = fk_first_nonfinite(elements, count)
    return index < 0 ? nil : index
}

extension Tensor {
    /// The index of the first NaN or ±Inf of the tensor (row-major), or nil; read in place, no copy.
    var firstNonFiniteIndex: Int? {
        withUnsafeRawElements { firstNonFinite($0, count: count) }
    }
}
