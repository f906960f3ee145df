import FusionKernels

/// The kernels' thread pool (`fk_pool`, see fk_pool.h) as a Swift object: a parallel-for over task
/// indices in which the calling thread takes part.
///
/// Tasks are handed out dynamically, so which thread runs which task varies between runs; every
/// task must write only its own outputs, and then results do not depend on the schedule or on the
/// thread count. One loop at a time: concurrent ``run(tasks:_:)`` calls are serialised.
final class KernelPool: @unchecked Sendable {
    /// Threads in total, the caller included (≥ 1).
    let threads: Int
    private let pool: OpaquePointer?

    /// Starts `threads − 1` workers (`threads` ≥ 1). If the system refuses a thread the pool runs
    /// everything on the calling thread (same results, slower).
    init(threads: Int) {
        precondition(threads >= 1, "KernelPool: threads = \(threads) must be at least 1")
        let pool = threads > 1 ? fk_pool_create(Int32(clamping: threads)) : nil
        self.pool = pool
        self.threads = pool == nil ? 1 : threads
    }

    deinit {
        fk_pool_destroy(pool)
    }

    /// Runs `body(task, worker)` for every task in 0..<tasks and returns when all have finished;
    /// `worker` is in 0..<threads (0 is the calling thread), for per-thread scratch space.
    func run(tasks: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        guard tasks > 0 else { return }
        if tasks == 1 || pool == nil {
            for task in 0..<tasks {
                body(task, 0)
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = TaskBox(body)
            withExtendedLifetime(box) {
                fk_pool_run(pool, tasks, { context, task, worker in
                    Unmanaged<TaskBox>.fromOpaque(context!).takeUnretainedValue().body(task, Int(worker))
                }, Unmanaged.passUnretained(box).toOpaque())
            }
        }
    }
}

/// The closure of one ``KernelPool/run(tasks:_:)`` call, passed through the C context pointer.
private final class TaskBox {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
}
