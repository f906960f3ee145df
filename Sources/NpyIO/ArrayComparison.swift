/// An element-wise closeness check of two arrays with `numpy.allclose` semantics:
/// `|actual - expected| <= atol + rtol * |expected|`; NaN equals NaN only when `equalNaN`; infinities
/// are close only to the same infinity. `rtol = atol = 0` is exact equality.
///
/// Unicode and bytes arrays are compared for exact equality of their elements.
public struct ArrayComparison: Equatable, Sendable {
    /// Why two arrays could not be compared element by element.
    public enum Incompatibility: Error, Equatable, Sendable, CustomStringConvertible {
        case shape(expected: [Int], actual: [Int])
        case kind(expected: NpyDType, actual: NpyDType)

        public var description: String {
            switch self {
            case let .shape(expected, actual):
                return "shape mismatch: expected \(shapeText(expected)), found \(shapeText(actual))"
            case let .kind(expected, actual):
                return "dtype kind mismatch: expected \(expected), found \(actual)"
            }
        }
    }

    /// The number of elements compared.
    public var count: Int
    /// The number of elements that are not close.
    public var mismatchCount: Int
    /// The largest `|actual - expected|` over elements where both are finite (0 when none).
    public var maxAbsoluteError: Double
    /// The largest `|actual - expected| / |expected|` over finite elements with `expected != 0`.
    public var maxRelativeError: Double
    /// Of `mismatchCount`, the elements where one side is NaN (and the other is not, or `equalNaN` is off).
    public var nanMismatchCount = 0
    /// Of `mismatchCount`, the elements where one side is ±Inf and the other is not the same infinity
    /// (no NaN); they make `maxAbsoluteError` (and `maxRelativeError`) infinite, as numpy's
    /// `abs(actual - expected)` is.
    public var infinityMismatchCount = 0
    /// For arrays of rank ≥ 2, the first axis read as samples: every sample with an element that is
    /// not close, in order (empty when all are close, or for rank 0 and 1).
    public var differingSamples: [SampleDifference] = []
    /// The extent of the first axis for arrays of rank ≥ 2 (nil otherwise).
    public var sampleCount: Int?

    /// How one sample (an index of the first axis) differs.
    public struct SampleDifference: Equatable, Sendable {
        public var index: Int
        /// Its elements that are not close.
        public var mismatchCount: Int
        /// Its largest `|actual - expected|`: over finite pairs, infinite where an infinity mismatched.
        public var maxAbsoluteError: Double
        /// Of its mismatches, those with a NaN (which have no size and leave `maxAbsoluteError` alone).
        public var nanMismatchCount = 0
    }

    /// The C-order multi-index of the first element that is not close, if any.
    public var firstMismatch: [Int]?
    /// `expected` and `actual` values at `firstMismatch`.
    public var firstMismatchValues: (expected: Double, actual: Double)? {
        guard let pair = firstMismatchPair else { return nil }
        return (pair[0], pair[1])
    }
    private var firstMismatchPair: [Double]?

    public var isClose: Bool { mismatchCount == 0 }

    /// Compares `actual` against `expected`.
    ///
    /// - Returns: `.failure` with the incompatibility when shapes differ or one array is text and the
    ///   other numeric, bool against a number, or integers against floats; otherwise the comparison.
    /// - Throws: `NpyError` for complex arrays, which this check does not order.
    public static func compare(
        expected: NpyArray, actual: NpyArray, rtol: Double, atol: Double, equalNaN: Bool
    ) throws -> Result<ArrayComparison, Incompatibility> {
        guard expected.shape == actual.shape else {
            return .failure(.shape(expected: expected.shape, actual: actual.shape))
        }
        guard kind(of: expected.dtype) == kind(of: actual.dtype) else {
            return .failure(.kind(expected: expected.dtype, actual: actual.dtype))
        }
        var result = ArrayComparison(
            count: expected.count, mismatchCount: 0, maxAbsoluteError: 0, maxRelativeError: 0,
            firstMismatch: nil, firstMismatchPair: nil)
        if expected.rank >= 2 { result.sampleCount = expected.shape[0] }
        let perSample = expected.rank >= 2 && expected.shape[0] > 0 ? expected.count / expected.shape[0] : 0
        func noteSample(_ index: Int, _ difference: Double) {
            guard perSample > 0 else { return }
            let sample = index / perSample
            if result.differingSamples.last?.index != sample {
                result.differingSamples.append(SampleDifference(index: sample, mismatchCount: 0, maxAbsoluteError: 0))
            }
            let last = result.differingSamples.count - 1
            result.differingSamples[last].mismatchCount += 1
            if difference.isNaN {
                result.differingSamples[last].nanMismatchCount += 1
            } else {
                result.differingSamples[last].maxAbsoluteError = Swift.max(result.differingSamples[last].maxAbsoluteError, difference)
            }
        }
        if !expected.dtype.isNumeric {
            for index in try result.compareText(expected: expected, actual: actual) { noteSample(index, 0) }
            return .success(result)
        }
        let e = try expected.float64Elements()
        let a = try actual.float64Elements()
        for index in 0..<e.count {
            let (x, y) = (e[index], a[index])
            let close: Bool
            var difference = 0.0
            if x.isNaN || y.isNaN {
                close = equalNaN && x.isNaN && y.isNaN
                if !close {
                    result.nanMismatchCount += 1
                    difference = .nan
                }
            } else if x.isInfinite || y.isInfinite {
                close = x == y
                if !close {
                    result.infinityMismatchCount += 1
                    difference = .infinity
                    result.maxAbsoluteError = .infinity
                    result.maxRelativeError = .infinity
                }
            } else {
                difference = abs(y - x)
                result.maxAbsoluteError = Swift.max(result.maxAbsoluteError, difference)
                if x != 0 { result.maxRelativeError = Swift.max(result.maxRelativeError, difference / abs(x)) }
                close = difference <= atol + rtol * abs(x)
            }
            if !close {
                if result.mismatchCount == 0 {
                    result.firstMismatch = multiIndex(index, shape: expected.shape)
                    result.firstMismatchPair = [x, y]
                }
                result.mismatchCount += 1
                noteSample(index, difference)
            }
        }
        return .success(result)
    }

    /// Counts the text elements that differ; returns their flat indices.
    private mutating func compareText(expected: NpyArray, actual: NpyArray) throws -> [Int] {
        var mismatches: [Int] = []
        let width = expected.dtype.itemSize, otherWidth = actual.dtype.itemSize
        let units = expected.dtype.isUnicodeLike ? 4 : 1
        expected.withUnsafeRawBytes { e in
            actual.withUnsafeRawBytes { a in
                for index in 0..<count {
                    let left = Self.trimmedElement(e, index: index, width: width, unit: units, bigEndian: expected.byteOrder == .big)
                    let right = Self.trimmedElement(a, index: index, width: otherWidth, unit: units, bigEndian: actual.byteOrder == .big)
                    if left != right {
                        if mismatchCount == 0 { firstMismatch = Self.multiIndex(index, shape: expected.shape) }
                        mismatchCount += 1
                        mismatches.append(index)
                    }
                }
            }
        }
        return mismatches
    }

    /// One text element's code units without trailing zeros (numpy pads short strings with NULs).
    private static func trimmedElement(
        _ bytes: UnsafeRawBufferPointer, index: Int, width: Int, unit: Int, bigEndian: Bool
    ) -> [UInt32] {
        var units: [UInt32] = []
        let start = index * width
        for offset in stride(from: start, to: start + width, by: unit) {
            var value: UInt32 = 0
            for byte in 0..<unit {
                let b = UInt32(bytes[offset + byte])
                value |= bigEndian ? b << (8 * UInt32(unit - 1 - byte)) : b << (8 * UInt32(byte))
            }
            units.append(value)
        }
        while units.last == 0 { units.removeLast() }
        return units
    }

    /// Kinds compared: bool, integers (any width and sign), floats (any width), complex, text.
    private enum Kind { case bool, integer, float, complex, text }

    private static func kind(of dtype: NpyDType) -> Kind {
        if dtype == .bool { return .bool }
        if dtype.isComplex { return .complex }
        if dtype.isInteger { return .integer }
        if dtype.isNumeric { return .float }
        return .text
    }

    /// The C-order multi-index of flat element `flat` in an array of `shape`.
    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}

private extension NpyDType {
    var isUnicodeLike: Bool {
        if case .unicode = self { return true }
        return false
    }
}

/// A shape as numpy prints it: `(3,)`, `(2, 4)`, `()`.
public func shapeText(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}
