#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// In-place softmax: `v[i] ← exp(v[i] − max v) / Σ_j exp(v[j] − max v)`.
///
/// Subtracting the maximum keeps huge logits finite; the sum runs in float32 in index order.
/// A NaN logit makes the row NaN; a row of −∞ only is NaN too (callers pass valid tokens only).
/// - Precondition: at least one element (traps on an empty row). - Complexity: O(n).
func softmaxInPlace(_ values: UnsafeMutableBufferPointer<Float>) {
    precondition(values.count >= 1, "softmaxInPlace: empty row")
    var largest = values[0]
    for i in 1..<values.count where values[i] > largest {
        largest = values[i]
    }
    var sum: Float = 0
    for i in 0..<values.count {
        let e = expf(values[i] - largest)
        values[i] = e
        sum += e
    }
    let scale = 1 / sum
    for i in 0..<values.count {
        values[i] *= scale
    }
}
