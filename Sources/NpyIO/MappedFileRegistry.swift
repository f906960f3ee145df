#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory maps of input files in use, kept where a SIGBUS handler can reach them.
///
/// Regular files are read through `mmap` (zero copy). If another process truncates such a file while
/// it is mapped, touching a page past the new end raises SIGBUS, which would kill the process without
/// a word. `installFaultHandler()` installs a SIGBUS handler that looks up the faulting address: when it
/// lies inside a registered map, the handler unlinks every unfinished output file (see
/// ``TemporaryFileRegistry``), writes
/// `fusectl: error: PATH: the file shrank while it was being read (SIGBUS in its memory map); unfinished output files were removed`
/// to standard error and ends the process with `_exit(1)`. A SIGBUS anywhere else is not ours: the
/// handler removes the unfinished output files, puts the previous disposition back and returns, so the
/// fault repeats and ends the process as before (with the Swift runtime's backtrace, where installed).
///
/// The handler only reads fixed slots, calls `unlink`, `write`, `sigaction` and `_exit`, all
/// async-signal-safe. A map is registered from `mmap` until just before `munmap`; when every slot is
/// taken (more than 256 files mapped at once) a map is simply not registered.
public enum MappedFileRegistry {
    private static let capacity = 256
    /// Per slot: first byte (0 = free), length, and the path as a C string.
    private static let bases = SignalSafeStorage.slots(capacity, initial: UInt(0))
    private static let lengths = SignalSafeStorage.slots(capacity, initial: UInt(0))
    private static let paths = SignalSafeStorage.slots(capacity, initial: UnsafeMutablePointer<CChar>?.none)
    private static let lock = SignalSafeStorage.mutex()
    /// The SIGBUS disposition before ours, restored for faults outside our maps.
    private static let previous = SignalSafeStorage.slots(1, initial: sigaction())

    /// Records the map of `length` bytes at `base` of the file `path`; returns its slot, or nil when
    /// every slot is taken.
    static func register(base: UnsafeRawPointer, length: Int, path: String) -> Int? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for slot in 0..<capacity where bases[slot] == 0 {
            paths[slot] = strdup(path)
            lengths[slot] = UInt(length)
            bases[slot] = UInt(bitPattern: base)  // last: a nonzero base marks the slot complete
            return slot
        }
        return nil
    }

    /// Forgets the map in `slot` (call before unmapping it).
    static func unregister(_ slot: Int) {
        pthread_mutex_lock(lock)
        bases[slot] = 0
        lengths[slot] = 0
        let path = paths[slot]
        paths[slot] = nil
        pthread_mutex_unlock(lock)
        free(path)
    }

    /// Installs the SIGBUS handler described above. Call once, early (fusectl's `main` does).
    public static func installFaultHandler() {
        _ = (bases, lengths, paths, lock)
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = busErrorHandler
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, previous)
    }

    /// The path of the registered map holding `address`, if any. Async-signal-safe.
    fileprivate static func path(containing address: UInt) -> UnsafeMutablePointer<CChar>? {
        for slot in 0..<capacity {
            let base = bases[slot]
            if base != 0 && address >= base && address - base < lengths[slot] { return paths[slot] }
        }
        return nil
    }

    /// Puts the disposition from before `installFaultHandler()` back. Async-signal-safe.
    fileprivate static func restorePrevious() {
        sigaction(SIGBUS, previous, nil)
    }
}

/// Writes the C string `text` to standard error. Async-signal-safe.
private func writeToStandardError(_ text: UnsafePointer<CChar>) {
    var length = 0
    while text[length] != 0 { length += 1 }
    _ = write(2, text, length)
}

private func busErrorHandler(_ sig: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    TemporaryFileRegistry.unlinkAll()
    let address = info.map { UInt(bitPattern: $0.pointee._sifields._sigfault.si_addr) } ?? 0
    guard let path = MappedFileRegistry.path(containing: address) else {
        MappedFileRegistry.restorePrevious()
        return
    }
    let before: StaticString = "fusectl: error: "
    let after: StaticString = ": the file shrank while it was being read (SIGBUS in its memory map); unfinished output files were removed\n"
    _ = write(2, before.utf8Start, before.utf8CodeUnitCount)
    writeToStandardError(path)
    _ = write(2, after.utf8Start, after.utf8CodeUnitCount)
    _exit(1)
}
