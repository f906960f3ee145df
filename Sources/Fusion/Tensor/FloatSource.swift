/// A row-major array of numbers readable as float32, a slice at a time.
///
/// The engine reads inputs through this protocol so that it can stream batch
/// chunks from a memory map instead of loading a whole file. ``Tensor`` conforms;
/// NumPy arrays from `NpyIO` conform through `NpyArray+FloatSource.swift`.
public protocol FloatSource {
    /// Extents, outermost first.
    var shape: [Int] { get }

    /// Calls `body` with the elements whose flat row-major indices are `range`,
    /// converted to float32 (exactly once, rounding to nearest) when stored otherwise.
    ///
    /// The buffer is valid only inside `body` and must not escape it.
    /// - Precondition: `range` lies within `0..<` (product of `shape`).
    /// - Throws: whatever reading or converting the underlying storage throws.
    func withElements<R>(
        in range: Range<Int>, _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) throws -> R

    /// Says that elements `range` will not be read again soon, so that a memory-mapped source may drop
    /// their pages from the resident set (the fast engine calls it after each chunk of samples).
    /// Never changes what ``withElements(in:_:)`` returns. The default does nothing.
    func releaseResidentPages(in range: Range<Int>)
}

extension FloatSource {
    /// Does nothing: in-memory sources have no pages to give back.
    public func releaseResidentPages(in range: Range<Int>) {}

    /// The number of elements (product of `shape`).
    public var elementTotal: Int { elementCount(shape) }

    /// A copy of the elements at flat indices `range`, as float32.
    /// - Throws: whatever ``withElements(in:_:)`` throws.
    public func elements(in range: Range<Int>) throws -> [Float] {
        try withElements(in: range) { Array($0) }
    }
}

extension Tensor: FloatSource {
    /// Calls `body` with elements `range`; no copy.
    public func withElements<R>(
        in range: Range<Int>, _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) throws -> R {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= count,
            "Tensor.withElements: range \(range) outside 0..<\(count)")
        return try withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[range]))
        }
    }
}
