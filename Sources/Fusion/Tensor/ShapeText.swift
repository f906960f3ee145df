/// A shape written the way NumPy prints it: `()`, `(3,)`, `(2, 4)`.
func shapeText(_ shape: [Int]) -> String {
    switch shape.count {
    case 0: return "()"
    case 1: return "(\(shape[0]),)"
    default: return "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}

/// The number of elements of a shape (the product of its extents; 1 for `()`).
/// Traps on a negative extent or on overflow: shapes reaching here were checked by their reader.
func elementCount(_ shape: [Int]) -> Int {
    var count = 1
    for extent in shape {
        precondition(extent >= 0, "negative extent in shape \(shapeText(shape))")
        let (product, overflow) = count.multipliedReportingOverflow(by: extent)
        precondition(!overflow, "element count of shape \(shapeText(shape)) overflows Int")
        count = product
    }
    return count
}
