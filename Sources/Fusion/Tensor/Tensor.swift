/// A dense float32 array in row-major (C) order.
///
/// `values[i]` is the element whose index, read in row-major order over `shape`,
/// is `i`; `values.count` always equals the product of `shape`. Weights and results
/// of the `Fusion` library are `Tensor`s; inputs may be any ``FloatSource``.
public struct Tensor: Sendable, Equatable {
    /// Extents, outermost first. `[]` is a scalar.
    public var shape: [Int]
    /// The elements in row-major order.
    public var values: [Float]

    /// Wraps `values` as an array of `shape`.
    /// - Precondition: `values.count` is the product of `shape` (traps otherwise, naming both).
    public init(shape: [Int], values: [Float]) {
        precondition(
            values.count == elementCount(shape),
            "Tensor: \(values.count) values do not fill shape \(shapeText(shape))")
        self.shape = shape
        self.values = values
    }

    /// A tensor of `shape` filled with zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.values = [Float](repeating: 0, count: elementCount(shape))
    }

    /// The number of elements (product of `shape`).
    public var count: Int { values.count }

    /// The shape as NumPy prints it, e.g. `(2, 1, 36)`.
    public var shapeDescription: String { shapeText(shape) }
}
