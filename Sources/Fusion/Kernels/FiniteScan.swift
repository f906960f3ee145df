/// The index of the first NaN or ±Inf in `values`, or nil when every element is finite.
///
/// A float is NaN or ±Inf exactly when its exponent field is all ones; `(bits & 0x7F80_0000) +
/// 0x0080_0000` then carries into bit 31, and only then. The first pass ORs that bit over all elements
/// (integer work without branches or early exit, which the compiler vectorises); only when it is set
/// does a second pass look for the first such element. Reads the buffer in place, no copy.
/// - Complexity: O(n), one pass over the memory when everything is finite.
func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
    guard let base = values.baseAddress, !values.isEmpty else { return nil }
    let found = UnsafeRawPointer(base).withMemoryRebound(to: UInt32.self, capacity: values.count) { bits in
        var carry: UInt32 = 0
        for i in 0..<values.count {
            carry |= ((bits[i] & 0x7F80_0000) &+ 0x0080_0000) & 0x8000_0000
        }
        return carry != 0
    }
    guard found else { return nil }
    return values.firstIndex { !$0.isFinite }
}
