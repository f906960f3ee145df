/// `y = W·x (+ b)`: `y[r] = (Σ_c W[r, c]·x[c]) + b[r]` for a row-major `W` of shape (rows, cols).
///
/// Each `y[r]` is one ``dotProduct(_:_:)`` chain over `c` in index order, then the bias is added.
/// - Parameters:
///   - weight: rows·cols elements, row-major (PyTorch's `Linear.weight` layout, (out, in)).
///   - input: `cols` elements. bias: `rows` elements or nil. output: `rows` elements, written.
/// - Precondition: the counts above (traps naming them). - Complexity: O(rows·cols).
func matrixVector(
    weight: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
    input: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
    output: UnsafeMutableBufferPointer<Float>
) {
    precondition(
        weight.count == rows * cols && input.count == cols && output.count == rows
            && (bias == nil || bias!.count == rows),
        "matrixVector: weight \(weight.count) for (\(rows), \(cols)), input \(input.count), output \(output.count), bias \(bias?.count ?? -1)"
    )
    for r in 0..<rows {
        let row = UnsafeBufferPointer(rebasing: weight[(r * cols)..<((r + 1) * cols)])
        var value = dotProduct(row, input)
        if let bias {
            value += bias[r]
        }
        output[r] = value
    }
}
