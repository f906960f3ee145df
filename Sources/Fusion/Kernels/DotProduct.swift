/// `Σ_i a[i]·b[i]` over `i = 0..<a.count`, accumulated in float32 strictly in index order.
///
/// One sequential chain (no reassociation, no splitting), so the result depends only on
/// the two vectors. - Precondition: equal counts. - Complexity: O(n).
@inline(__always)
func dotProduct(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
    precondition(a.count == b.count, "dotProduct: lengths \(a.count) and \(b.count) differ")
    var sum: Float = 0
    for i in 0..<a.count {
        sum += a[i] * b[i]
    }
    return sum
}
