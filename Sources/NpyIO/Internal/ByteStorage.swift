#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns a block of immutable bytes: a read-only memory map, a heap allocation, or nothing (empty).
///
/// The memory is released (munmap / deallocate) when the last reference goes away. The bytes never
/// change after initialisation, so sharing across threads is safe.
final class ByteStorage: @unchecked Sendable {
    enum Owner {
        case none
        /// A map of a file, with its ``MappedFileRegistry`` slot (nil when it is not registered).
        case mapping(UnsafeMutableRawPointer, length: Int, registration: Int?)
        case heap(UnsafeMutableRawPointer)
    }

    /// First byte; nil only when `count == 0`.
    private let base: UnsafeRawPointer?
    let count: Int
    private let owner: Owner

    private init(base: UnsafeRawPointer?, count: Int, owner: Owner) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    deinit {
        switch owner {
        case .none: break
        case .mapping(let pointer, let length, let registration):
            if let registration { MappedFileRegistry.unregister(registration) }
            munmap(pointer, length)
        case .heap(let pointer): pointer.deallocate()
        }
    }

    static let empty = ByteStorage(base: nil, count: 0, owner: .none)

    /// True when the bytes are a read-only memory map of a file (pages may be dropped and re-read).
    var isFileMapping: Bool {
        if case .mapping = owner { return true }
        return false
    }

    /// Takes ownership of a read-only mapping of `length` bytes (released with munmap). A map of the
    /// file `path` is registered with ``MappedFileRegistry``, so that a SIGBUS from the file shrinking
    /// meanwhile is reported with its path; an anonymous map (`path` nil) is not.
    static func adoptMapping(_ pointer: UnsafeMutableRawPointer, length: Int, path: String? = nil) -> ByteStorage {
        let registration = path.flatMap { MappedFileRegistry.register(base: UnsafeRawPointer(pointer), length: length, path: $0) }
        return ByteStorage(base: UnsafeRawPointer(pointer), count: length,
                           owner: .mapping(pointer, length: length, registration: registration))
    }

    /// Takes ownership of `count` initialised bytes at a pointer from `UnsafeMutableRawPointer.allocate`.
    static func adoptHeap(_ pointer: UnsafeMutableRawPointer, count: Int) -> ByteStorage {
        ByteStorage(base: UnsafeRawPointer(pointer), count: count, owner: .heap(pointer))
    }

    /// A 64-byte aligned heap copy of `bytes`.
    static func copying(_ bytes: UnsafeRawBufferPointer) -> ByteStorage {
        guard bytes.count > 0 else { return .empty }
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        pointer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        return adoptHeap(pointer, count: bytes.count)
    }

    /// Allocates `count` bytes (64-byte aligned) and lets `fill` initialise all of them.
    static func filling(count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteStorage {
        guard count > 0 else { return .empty }
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: pointer, count: count))
        } catch {
            pointer.deallocate()
            throw error
        }
        return adoptHeap(pointer, count: count)
    }

    /// Calls `body` with the bytes; the pointer must not escape.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeRawBufferPointer(start: base, count: count)) }
    }
}

/// A byte range inside a `ByteStorage`, keeping the storage alive.
struct ByteRegion: Sendable {
    let storage: ByteStorage
    let offset: Int
    let count: Int

    init(storage: ByteStorage, offset: Int = 0, count: Int? = nil) {
        let count = count ?? storage.count - offset
        precondition(offset >= 0 && count >= 0 && offset <= storage.count - count,
                     "region \(offset)..<\(offset + count) outside storage of \(storage.count) bytes")
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// The sub-range `range` of this region (relative offsets).
    func slice(_ range: Range<Int>) -> ByteRegion {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice \(range) outside region of \(count) bytes")
        return ByteRegion(storage: storage, offset: offset + range.lowerBound, count: range.count)
    }

    /// Calls `body` with the region's bytes; the pointer must not escape.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[offset..<offset + count]))
        }
    }
}
