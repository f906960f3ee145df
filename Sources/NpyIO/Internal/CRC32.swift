import CRCFold
import CZlib
import Dispatch

/// CRC-32 with the zip polynomial (reflected 0xEDB88320, initial and final XOR 0xFFFFFFFF), as zip
/// members and PNG chunks carry it.
///
/// Computed by `crc_fold_crc32` (the CRCFold target): AVX-512 VPCLMULQDQ folding where the CPU has
/// it (about 25 GB/s on one Zen 4 core, bound by memory), libdeflate's PCLMULQDQ code otherwise
/// (about 10 GB/s, 2.5× zlib's `crc32_z`). Pieces are joined with zlib's `crc32_combine`, so a
/// large buffer can be checked on several cores and still give exactly the one-pass value.
enum CRC32 {
    /// The CRC-32 of `bytes`, continuing from `crc` (0 to start), on the calling thread.
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return crc_fold_crc32(crc, base, bytes.count)
    }

    /// The CRC-32 of `first` followed by `secondCount` bytes whose CRC-32 is `second`.
    /// - Complexity: O(log secondCount).
    static func combine(_ first: UInt32, _ second: UInt32, secondCount: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(first), UInt(second), secondCount))
    }

    /// Bytes from which ``parallelChecksum(_:)`` splits the work (below, one thread is faster than
    /// starting others).
    static let parallelThreshold = 1 << 20

    /// The CRC-32 of `bytes` (starting from 0), computed on up to `pieces` threads (default: the
    /// online cores) over contiguous pieces of at least half ``parallelThreshold`` bytes and
    /// combined; equal to `checksum(bytes)` for every split.
    static func parallelChecksum(_ bytes: UnsafeRawBufferPointer, pieces: Int = ElementKernels.onlineCores) -> UInt32 {
        let count = min(max(1, pieces), bytes.count / (parallelThreshold / 2))
        guard count > 1 else { return checksum(bytes) }
        let step = (bytes.count + count - 1) / count
        var crcs = [UInt32](repeating: 0, count: count)
        crcs.withUnsafeMutableBufferPointer { crcs in
            let results = crcs
            DispatchQueue.concurrentPerform(iterations: count) { piece in
                let start = piece * step
                results[piece] = checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + step)]))
            }
        }
        var crc = crcs[0]
        for piece in 1..<count {
            crc = combine(crc, crcs[piece], secondCount: min(bytes.count, (piece + 1) * step) - piece * step)
        }
        return crc
    }
}
