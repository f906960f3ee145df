#if canImport(Glibc)
import Glibc
#endif

/// A fixed-size float32 buffer on the heap, 64-byte aligned, owned by the engine: packed weights
/// and scratch space. Not initialised on allocation unless asked for.
///
/// Scratch buffers (`hugePages`) of ``hugePageBytes`` or more are aligned to 2 MiB and offered to the
/// kernel as transparent huge pages (`madvise(MADV_HUGEPAGE)`, honoured where THP is `madvise` or
/// `always`): a forward pass's fresh scratch (≈ 50 MB for W4) then costs a few dozen page faults
/// instead of ≈ 12,000 (W4 forward 180 → 170 ms, W5 83 → 77 ms, medians of 12 alternating runs,
/// Zen 5, 2026-12-06). Not for sparse buffers (the weights arena, mostly reserved and untouched):
/// every touched 2 MiB would be zeroed whole. Contents and results are the same either way.
///
/// The memory is freed with the object; its address is only lent to ``withPointer(_:)``'s closure.
final class AlignedFloats: @unchecked Sendable {
    /// Number of floats.
    let count: Int
    private let base: UnsafeMutablePointer<Float>

    /// The size from which a buffer is aligned for, and advised to use, huge pages.
    static let hugePageBytes = 2 << 20

    /// Allocates `count` ≥ 0 floats (at least one slot is reserved so the address is never nil).
    /// - Parameters:
    ///   - zeroed: fill with +0 (otherwise the contents are undefined until written).
    ///   - hugePages: a buffer that is written through (scratch): use huge pages from ``hugePageBytes``.
    init(count: Int, zeroed: Bool = false, hugePages: Bool = false) {
        precondition(count >= 0, "AlignedFloats: negative count \(count)")
        self.count = count
        let bytes = max(1, count) * MemoryLayout<Float>.stride
        let huge = hugePages && bytes >= Self.hugePageBytes
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, huge ? Self.hugePageBytes : 64, bytes)
        guard status == 0, let raw else {
            fatalError("AlignedFloats: cannot allocate \(bytes) bytes (posix_memalign status \(status))")
        }
        #if canImport(Glibc)
        if huge {
            // Advice only: without THP the buffer is used with ordinary pages.
            _ = madvise(raw, bytes / Self.hugePageBytes * Self.hugePageBytes, MADV_HUGEPAGE)
        }
        #endif
        base = raw.bindMemory(to: Float.self, capacity: max(1, count))
        if zeroed {
            base.initialize(repeating: 0, count: count)
        }
    }

    deinit {
        free(base)
    }

    /// Calls `body` with the first float's address; the pointer must not escape `body`.
    func withPointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(base) }
    }
}
