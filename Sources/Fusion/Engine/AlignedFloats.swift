/// A fixed-size float32 buffer on the heap, 64-byte aligned, owned by the engine: packed weights
/// and scratch space. Not initialised on allocation unless asked for.
///
/// The memory is freed with the object; its address is only lent to ``withPointer(_:)``'s closure.
final class AlignedFloats: @unchecked Sendable {
    /// Number of floats.
    let count: Int
    private let base: UnsafeMutablePointer<Float>

    /// Allocates `count` ≥ 0 floats (at least one slot is reserved so the address is never nil).
    /// - Parameter zeroed: fill with +0 (otherwise the contents are undefined until written).
    init(count: Int, zeroed: Bool = false) {
        precondition(count >= 0, "AlignedFloats: negative count \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(1, count))
        if zeroed {
            base.initialize(repeating: 0, count: count)
        }
    }

    deinit {
        base.deallocate()
    }

    /// Calls `body` with the first float's address; the pointer must not escape `body`.
    func withPointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(base) }
    }
}
