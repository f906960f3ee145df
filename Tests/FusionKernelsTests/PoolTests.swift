import FusionKernels
import Testing

/// Context for the pool tests: per task, a run count and the worker that ran it last. Tasks
/// write only their own elements, through raw memory: several threads modifying one Swift
/// array property would be an access race of the test itself (ThreadSanitizer reports it).
final class TaskLog {
    let count: Int
    private let runCounts: UnsafeMutablePointer<Int32>
    private let workerIDs: UnsafeMutablePointer<Int32>
    init(tasks: Int) {
        count = tasks
        runCounts = .allocate(capacity: tasks)
        runCounts.initialize(repeating: 0, count: tasks)
        workerIDs = .allocate(capacity: tasks)
        workerIDs.initialize(repeating: -1, count: tasks)
    }
    deinit {
        runCounts.deallocate()
        workerIDs.deallocate()
    }
    /// Adds `amount` to task's run count and records `worker`.
    func record(_ task: Int, worker: Int32, amount: Int32 = 1) {
        runCounts[task] += amount
        workerIDs[task] = worker
    }
    var runs: [Int32] { Array(UnsafeBufferPointer(start: runCounts, count: count)) }
    var workers: [Int32] { Array(UnsafeBufferPointer(start: workerIDs, count: count)) }
}

/// One column range of a pool-split GEMM.
struct SplitGEMM {
    let x: UnsafePointer<Float>, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let rows: Int, input: Int, output: Int, parts: Int
}

extension KernelsSuite {
    @Suite struct PoolTests {
        @Test("every task runs exactly once, on a worker in range, over many loops", arguments: [1, 2, 3, 4])
        func runsEveryTask(threads: Int32) throws {
            let pool = try #require(fk_pool_create(threads))
            defer { fk_pool_destroy(pool) }
            #expect(fk_pool_threads(pool) == threads)
            for loop in 0..<500 {
                let tasks = 1 + loop % 17
                let log = TaskLog(tasks: tasks)
                withExtendedLifetime(log) {
                    fk_pool_run(pool, tasks, { ctx, task, worker in
                        Unmanaged<TaskLog>.fromOpaque(ctx!).takeUnretainedValue().record(task, worker: worker)
                    }, Unmanaged.passUnretained(log).toOpaque())
                }
                #expect(log.runs.allSatisfy { $0 == 1 }, "loop \(loop): runs \(log.runs)")
                #expect(log.workers.allSatisfy { $0 >= 0 && $0 < threads }, "loop \(loop): workers \(log.workers)")
            }
        }

        @Test("loops that alternate functions and contexts never run a task of the wrong loop")
        func alternatingLoops() throws {
            let pool = try #require(fk_pool_create(2))
            defer { fk_pool_destroy(pool) }
            let logs = [TaskLog(tasks: 64), TaskLog(tasks: 64)]
            let addOne: fk_task_fn = { ctx, task, worker in
                Unmanaged<TaskLog>.fromOpaque(ctx!).takeUnretainedValue().record(task, worker: worker)
            }
            let addHundred: fk_task_fn = { ctx, task, worker in
                Unmanaged<TaskLog>.fromOpaque(ctx!).takeUnretainedValue().record(task, worker: worker, amount: 100)
            }
            withExtendedLifetime(logs) {
                for loop in 0..<2000 {
                    let tasks = 1 + loop % 64
                    fk_pool_run(pool, tasks, loop % 3 == 0 ? addHundred : addOne,
                                Unmanaged.passUnretained(logs[loop % 2]).toOpaque())
                }
            }
            // Expected totals per log and task, from the same schedule run sequentially.
            var want = [[Int32](repeating: 0, count: 64), [Int32](repeating: 0, count: 64)]
            for loop in 0..<2000 {
                for task in 0..<(1 + loop % 64) { want[loop % 2][task] += loop % 3 == 0 ? 100 : 1 }
            }
            #expect(logs[0].runs == want[0] && logs[1].runs == want[1])
        }

        /// A worker that reads a loop's generation late, while the caller, having run that loop
        /// alone, is already storing the next loop's function, context and larger task count,
        /// must claim nothing. Before the pool closed finished loops, such a worker could claim
        /// index `tasks` of the exhausted word with the new count and run one of the next loop's
        /// tasks twice (or after its loop had returned). The race needs a worker to wake at the
        /// wrong moment, so this is a stress test: task counts grow loop to loop and the gaps
        /// between loops (0–49 µs) are about a worker's wake-up time. With the old protocol this
        /// test failed in 3 of 6 runs on the 2-core development machine.
        @Test("late workers claim nothing from a finished loop (stress: growing task counts, short gaps)")
        func lateWorkersClaimNothing() throws {
            let pool = try #require(fk_pool_create(4))
            defer { fk_pool_destroy(pool) }
            let clock = ContinuousClock()
            var wrongLoops: [Int] = []
            for loop in 0..<40_000 {
                let tasks = 2 + loop % 62
                let log = TaskLog(tasks: 64)
                withExtendedLifetime(log) {
                    fk_pool_run(pool, tasks, { ctx, task, worker in
                        Unmanaged<TaskLog>.fromOpaque(ctx!).takeUnretainedValue().record(task, worker: worker)
                    }, Unmanaged.passUnretained(log).toOpaque())
                }
                let runs = log.runs
                if !runs.indices.allSatisfy({ runs[$0] == ($0 < tasks ? 1 : 0) }) { wrongLoops.append(loop) }
                let until = clock.now + .microseconds(loop * 7919 % 50)
                while clock.now < until {}
            }
            #expect(wrongLoops.isEmpty, "loops whose tasks did not run exactly once: \(wrongLoops.prefix(10))")
        }

        @Test("a NULL pool runs tasks in order on the caller")
        func nullPool() {
            let log = TaskLog(tasks: 5)
            withExtendedLifetime(log) {
                fk_pool_run(nil, 5, { ctx, task, worker in
                    // Sequential on the caller: the n-th task to run records n.
                    let log = Unmanaged<TaskLog>.fromOpaque(ctx!).takeUnretainedValue()
                    log.record(task, worker: worker, amount: Int32(log.runs.filter { $0 != 0 }.count + 1))
                }, Unmanaged.passUnretained(log).toOpaque())
            }
            #expect(log.runs == [1, 2, 3, 4, 5] && log.workers.allSatisfy { $0 == 0 })
            #expect(fk_cpu_count() >= 1)
        }

        @Test("a GEMM split over threads by columns equals the single-threaded one bit for bit")
        func threadedGEMM() throws {
            let (rows, input, output) = (1, 768, 3072)
            let linear = PackedLinear(input: input, output: output, seed: 51)
            let x = randomFloats(rows * input, seed: 52)
            let single = linear.apply(x, rows: rows, activation: FK_ACT_NONE)
            let pool = try #require(fk_pool_create(2))
            defer { fk_pool_destroy(pool) }
            for parts in [2, 3, 7] {
                var y = [Float](repeating: .nan, count: rows * output)
                x.withUnsafeBufferPointer { xp in
                    linear.packed.withUnsafeBufferPointer { pp in
                        linear.bias!.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                var job = SplitGEMM(x: xp.baseAddress!, packed: pp.baseAddress!, bias: bp.baseAddress!,
                                                    y: yp.baseAddress!, rows: rows, input: input, output: output, parts: parts)
                                fk_pool_run(pool, parts, { ctx, task, _ in
                                    let j = ctx!.assumingMemoryBound(to: SplitGEMM.self).pointee
                                    // Uneven column cuts that ignore the 16-column panels.
                                    let c0 = j.output * task / j.parts, c1 = j.output * (task + 1) / j.parts
                                    fk_gemm(j.x, j.input, j.packed, j.input, j.output, j.bias, FK_ACT_NONE,
                                            j.y, j.output, 0, j.rows, c0, c1)
                                }, &job)
                            }
                        }
                    }
                }
                let d = firstBitDifference(y, single)
                #expect(d == nil, "\(parts) parts differ at \(d?.index ?? -1)")
            }
        }
    }
}
