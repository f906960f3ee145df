import FusionKernels

/// The machine numbers the cost model turns FLOPs and bytes into seconds with.
///
/// ``measured(pool:)`` measures both rates on this machine (about 40 ms; what `fusectl fuse --explain`
/// uses). ``current(threads:)`` assumes them per CPU level without measuring (the planner's default,
/// which only the predicted times depend on: the automatic plan never does): the FusionKernels GEMM
/// at about 100 GFLOP/s per thread on the AVX-512 path (the Zen 4 machines; Zen 5 measures ≈ 240),
/// half that on AVX2, a twentieth in scalar code, and memory at about 35 GB/s.
/// Few-row GEMMs are bound by streaming the weights, which the bytes term covers. A plan's predicted time is
/// the sum over its phases of max(FLOPs / (threads · gemmFlopsPerThread), bytes / bandwidth).
public struct MachineModel: Sendable, Equatable {
    /// Sustained GEMM FLOP/s of one thread.
    public var gemmFlopsPerThread: Double
    /// Sustained memory bandwidth in bytes/s (all threads together).
    public var bandwidth: Double
    /// Threads the forward pass uses.
    public var threads: Int
    /// Where the rates come from, for explanations.
    public var origin: String

    /// A machine with these rates; `threads` below 1 counts as 1.
    public init(gemmFlopsPerThread: Double, bandwidth: Double, threads: Int, origin: String = "rates given") {
        self.gemmFlopsPerThread = gemmFlopsPerThread
        self.bandwidth = bandwidth
        self.threads = max(1, threads)
        self.origin = origin
    }

    /// The defaults for the kernels' current CPU level and `threads` threads.
    public static func current(threads: Int) -> MachineModel {
        let perThread: Double
        switch fk_cpu_level_current() {
        case FK_CPU_AVX512: perThread = 100e9
        case FK_CPU_AVX2: perThread = 50e9
        default: perThread = 5e9
        }
        return MachineModel(
            gemmFlopsPerThread: perThread, bandwidth: 35e9, threads: threads,
            origin: "rates assumed per CPU level, not measured")
    }

    /// Predicted seconds of one phase: bound by compute or by memory, whichever is slower.
    public func seconds(flops: Double, bytes: Double) -> Double {
        max(flops / (Double(threads) * gemmFlopsPerThread), bytes / bandwidth)
    }
}

extension MachineModel {
    /// Both rates measured on this machine with `pool`'s threads: the packed GEMM kernel on one
    /// thread for 20 ms (`fk_measure_gemm_gflops`), and memory by reading a 64 MiB buffer with every
    /// thread, best of three passes. Takes about 40 ms (the buffer's pages are faulted in first).
    static func measured(pool: KernelPool) -> MachineModel {
        let perThread = fk_measure_gemm_gflops(0.02) * 1e9
        let floats = 16 << 20
        let buffer = AlignedFloats(count: floats, zeroed: true)
        let threads = pool.threads
        let slice = floats / threads
        let clock = ContinuousClock()
        var best = Double.infinity
        buffer.withPointer { base in
            for _ in 0..<3 {
                let start = clock.now
                pool.run(tasks: threads) { task, _ in
                    // A pass that reads every byte once (the finite scan), at memory speed.
                    _ = fk_first_nonfinite(base + task * slice, slice)
                }
                let elapsed = clock.now - start
                best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
        }
        let bandwidth = Double(floats * MemoryLayout<Float>.size) / best
        return MachineModel(
            gemmFlopsPerThread: perThread, bandwidth: bandwidth, threads: threads,
            origin: "rates measured now: GEMM kernel on one thread, a 64 MiB read on \(threads)")
    }
}
