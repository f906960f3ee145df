#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files of `OutputFile`s in flight, kept where a signal handler can reach them.
///
/// A process killed by SIGINT or SIGTERM while writing would otherwise leave `.NAME.tmp-XXXXXX`
/// files behind. `installInterruptCleanup()` installs handlers that unlink every registered file,
/// say so on standard error and then die of the same signal (so the exit status still tells a
/// shell what happened). The handler only calls `unlink`, `write` and `raise`, which are
/// async-signal-safe; the slots are fixed C strings that are never freed while registered.
public enum TemporaryFileRegistry {
    private static let capacity = 64
    private static let slots = SignalSafeStorage.slots(capacity, initial: UnsafeMutablePointer<CChar>?.none)
    private static let lock = SignalSafeStorage.mutex()
    /// The signals whose handlers clean up (and which `withInterruptsDeferred` holds back).
    private static let interruptSignals = [SIGINT, SIGTERM, SIGHUP]

    /// Records `path`; returns its slot, or nil when every slot is taken (the file is then simply
    /// not cleaned up on a signal).
    static func register(_ path: String) -> Int? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for slot in 0..<capacity where slots[slot] == nil {
            slots[slot] = strdup(path)
            return slot
        }
        return nil
    }

    /// Forgets the file in `slot` (after it was renamed into place or removed).
    static func unregister(_ slot: Int) {
        pthread_mutex_lock(lock)
        let path = slots[slot]
        slots[slot] = nil
        pthread_mutex_unlock(lock)
        free(path)
    }

    /// Installs the SIGINT, SIGTERM and SIGHUP handlers described above. Call once, early.
    public static func installInterruptCleanup() {
        _ = slots
        _ = lock
        var handled = sigset_t()
        sigemptyset(&handled)
        for sig in interruptSignals {
            signal(sig, interruptHandler)
            sigaddset(&handled, sig)
        }
        // A parent that spawned us from a thread with these signals blocked (Foundation's Process does)
        // would otherwise leave them pending forever.
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
    }

    /// Runs `body` with SIGINT, SIGTERM and SIGHUP blocked on this thread, so that the interrupt
    /// handler sees either none or all of what `body` does; a signal that arrives meanwhile is
    /// delivered right after.
    static func withInterruptsDeferred<R>(_ body: () -> R) -> R {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        for sig in interruptSignals { sigaddset(&blocked, sig) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return body()
    }

    /// Unlinks every registered file. Async-signal-safe (the SIGBUS handler of
    /// ``MappedFileRegistry`` calls it too).
    static func unlinkAll() {
        for slot in 0..<capacity {
            if let path = slots[slot] { unlink(path) }
        }
    }
}

private func interruptHandler(_ sig: Int32) {
    TemporaryFileRegistry.unlinkAll()
    let message: StaticString = "fusectl: interrupted; unfinished output files were removed\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    signal(sig, SIG_DFL)
    raise(sig)
}
