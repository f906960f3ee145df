import Dispatch
import NpyIO

/// Calls `body(b)` for every b in 0..<count on up to `threads` threads (sample b goes to worker
/// b mod workers). Each call must write only its own sample's results.
///
/// - Throws: when calls throw, the error of the lowest sample index (so the error does not depend
///   on scheduling); every sample is still attempted.
func forEachSample(count: Int, threads: Int, _ body: (Int) throws -> Void) throws {
    let workers = max(1, min(threads, count))
    if workers == 1 {
        for b in 0..<count {
            try body(b)
        }
        return
    }
    let lock = Lock()
    var firstFailure: (sample: Int, error: Error)?
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for b in stride(from: worker, to: count, by: workers) {
                do {
                    try body(b)
                } catch {
                    lock.lock()
                    if firstFailure == nil || b < firstFailure!.sample {
                        firstFailure = (b, error)
                    }
                    lock.unlock()
                }
            }
        }
    }
    if let firstFailure {
        throw firstFailure.error
    }
}
