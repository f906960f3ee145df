/// Summary statistics of a numeric array, as `fusectl inspect` reports them.
///
/// `minimum`, `maximum` and `mean` are taken over the finite elements only (NaN and ±Inf are counted
/// instead); they are `nil` when the array has no finite element. Sums are float64, sequential in C order.
public struct ArrayStatistics: Equatable, Sendable {
    public var minimum: Double?
    public var maximum: Double?
    public var mean: Double?
    public var nanCount: Int
    public var infinityCount: Int

    /// Computes the statistics of a real numeric array (bool, integer or float).
    ///
    /// - Throws: `NpyError` for complex, unicode and bytes arrays (they have no order).
    /// - Complexity: O(count), one pass; memory O(count) for the float64 copy.
    public init(of array: NpyArray) throws {
        let values = try array.float64Elements()
        var minimum = Double.infinity, maximum = -Double.infinity
        var sum = 0.0, finiteCount = 0, nanCount = 0, infinityCount = 0
        for value in values {
            if value.isNaN {
                nanCount += 1
            } else if value.isInfinite {
                infinityCount += 1
            } else {
                minimum = Swift.min(minimum, value)
                maximum = Swift.max(maximum, value)
                sum += value
                finiteCount += 1
            }
        }
        self.nanCount = nanCount
        self.infinityCount = infinityCount
        if finiteCount > 0 {
            self.minimum = minimum
            self.maximum = maximum
            self.mean = sum / Double(finiteCount)
        }
    }
}
