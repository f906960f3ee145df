import FusionKernels

/// The machine numbers the cost model turns FLOPs and bytes into seconds with.
///
/// Defaults are this project's measurements on its 2-core AMD Zen 5 machines (issue 4): the
/// FusionKernels GEMM at about 200 GFLOP/s per thread on the AVX-512 path (half that on AVX2, a
/// tenth of it in scalar code) and memory streaming at about 35 GB/s. A plan's predicted time is
/// the sum over its phases of max(FLOPs / (threads · gemmFlopsPerThread), bytes / bandwidth).
public struct MachineModel: Sendable, Equatable {
    /// Sustained GEMM FLOP/s of one thread.
    public var gemmFlopsPerThread: Double
    /// Sustained memory bandwidth in bytes/s (all threads together).
    public var bandwidth: Double
    /// Threads the forward pass uses.
    public var threads: Int

    public init(gemmFlopsPerThread: Double, bandwidth: Double, threads: Int) {
        self.gemmFlopsPerThread = gemmFlopsPerThread
        self.bandwidth = bandwidth
        self.threads = max(1, threads)
    }

    /// The defaults for the kernels' current CPU level and `threads` threads.
    public static func current(threads: Int) -> MachineModel {
        let perThread: Double
        switch fk_cpu_level_current() {
        case FK_CPU_AVX512: perThread = 200e9
        case FK_CPU_AVX2: perThread = 100e9
        default: perThread = 20e9
        }
        return MachineModel(gemmFlopsPerThread: perThread, bandwidth: 35e9, threads: threads)
    }

    /// Predicted seconds of one phase: bound by compute or by memory, whichever is slower.
    public func seconds(flops: Double, bytes: Double) -> Double {
        max(flops / (Double(threads) * gemmFlopsPerThread), bytes / bandwidth)
    }
}
