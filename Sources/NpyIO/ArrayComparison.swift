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
    ///   other numeric (or bool against a number); otherwise the comparison.
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
        if !expected.dtype.isNumeric {
            try result.compareText(expected: expected, actual: actual)
            return .success(result)
        }
        let e = try expected.float64Elements()
        let a = try actual.float64Elements()
        for index in 0..<e.count {
            let (x, y) = (e[index], a[index])
            let close: Bool
            if x.isNaN || y.isNaN {
                close = equalNaN && x.isNaN && y.isNaN
            } else if x.isInfinite || y.isInfinite {
                close = x == y
            } else {
                let difference = abs(y - x)
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
            }
        }
        return .success(result)
    }

    private mutating func compareText(expected: NpyArray, actual: NpyArray) throws {
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
                    }
                }
            }
        }
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

    private enum Kind { case bool, number, complex, text }

    private static func kind(of dtype: NpyDType) -> Kind {
        if dtype == .bool { return .bool }
        if dtype.isComplex { return .complex }
        if dtype.isNumeric { return .number }
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
