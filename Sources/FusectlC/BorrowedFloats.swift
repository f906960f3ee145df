import Fusion

/// Float32 elements the caller owns, read in place for the duration of one call.
struct BorrowedFloats: FloatSource {
    let base: UnsafePointer<Float>?
    let shape: [Int]

    /// - Throws: ``CFailure`` for a NULL pointer with elements to read.
    init(_ base: UnsafePointer<Float>?, shape: [Int], name: String) throws {
        guard base != nil || shape.reduce(1, *) == 0 else { throw CFailure.input("\(name): NULL data for shape \(shapeDescription(shape))") }
        if let base, Int(bitPattern: base) % MemoryLayout<Float>.alignment != 0 {
            throw CFailure.input("\(name): the data is not aligned to 4 bytes (address \(base)); copy it into a float array")
        }
        self.base = base
        self.shape = shape
    }

    func withElements<R>(in range: Range<Int>, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape.reduce(1, *),
                     "BorrowedFloats.withElements: range \(range) outside the shape \(shape)")
        guard let base else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
    }
}
