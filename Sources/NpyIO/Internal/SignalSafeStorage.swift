#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed storage for state a signal handler reads: allocated once, never moved or freed, so the
/// handler can read it without calling into the allocator (see ``MappedFileRegistry`` and
/// ``TemporaryFileRegistry``).
enum SignalSafeStorage {
    /// `count` slots, each set to `initial`.
    static func slots<Element>(_ count: Int, initial: Element) -> UnsafeMutablePointer<Element> {
        let slots = UnsafeMutablePointer<Element>.allocate(capacity: count)
        slots.initialize(repeating: initial, count: count)
        return slots
    }

    /// An initialised mutex (taken by registering threads, never by a handler).
    static func mutex() -> UnsafeMutablePointer<pthread_mutex_t> {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }
}
