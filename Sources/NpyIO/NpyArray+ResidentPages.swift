#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dropping the resident pages of a memory-mapped array once a reader is done with them, so that
/// streaming through a file larger than memory keeps the process's resident set bounded.
extension NpyArray {
    /// Tells the kernel that the pages holding elements `range` (flat C-order indices, C-contiguous
    /// arrays) will not be read again soon: for an array memory-mapped from a file, the whole pages
    /// inside the byte range are dropped from this process's resident set (`madvise(MADV_DONTNEED)`;
    /// the file's page cache keeps them, so a later read faults them back in with the same bytes).
    ///
    /// Only pages entirely inside the range are released (a page shared with a neighbouring element
    /// stays), so calling it for consecutive ranges never discards data still in use elsewhere.
    /// Arrays on the heap (converted, decompressed, built in memory) and Fortran-order arrays are
    /// left alone. The contents seen through every accessor never change.
    ///
    /// - Returns: the number of bytes advised away (0 when nothing could be released).
    /// - Precondition: `range` lies within `0..<count` (traps otherwise).
    @discardableResult
    public func releaseResidentPages(elements range: Range<Int>) -> Int {
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "releaseResidentPages: range \(range) outside 0..<\(count) of \(origin)")
        guard region.storage.isFileMapping, isCContiguous, !range.isEmpty else { return 0 }
        let size = dtype.itemSize
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        return region.withBytes { bytes -> Int in
            guard let base = bytes.baseAddress else { return 0 }
            let start = Int(bitPattern: base) + range.lowerBound * size
            let end = Int(bitPattern: base) + range.upperBound * size
            let first = (start + page - 1) / page * page
            let last = end / page * page
            guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return 0 }
            return madvise(address, last - first, Int32(MADV_DONTNEED)) == 0 ? last - first : 0
        }
    }
}
