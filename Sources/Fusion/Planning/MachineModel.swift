import FusionKernels

/// The machine numbers the cost model turns FLOPs and bytes into seconds with.
///
/// Defaults are this project's measurements on its 2-core AMD machines (issue 4, kernels-bench):
/// the FusionKernels GEMM at about 100 GFLOP/s per thread on the AVX-512 path for 64 rows and more
/// (about half that on AVX2, a twentieth in scalar code) and memory streaming at about 35 GB/s.
/// Few-row GEMMs are bound by streaming the weights, which the bytes term covers. A plan's predicted time is
/// the sum over its phases of max(FLOPs / (threads · gemmFlopsPerThread), bytes / bandwidth).
public struct MachineModel: Sendable, Equatable {
    /// Sustained GEMM FLOP/s of one thread.
    public var gemmFlopsPerThread: Double
    /// Sustained memory bandwidth in bytes/s (all threads together).
    public var bandwidth: Double
    /// Threads the forward pass uses.
    public var threads: Int

    /// A machine with these rates; `threads` below 1 counts as 1.
    public init(gemmFlopsPerThread: Double, bandwidth: Double, threads: Int) {
        self.gemmFlopsPerThread = gemmFlopsPerThread
        self.bandwidth = bandwidth
        self.threads = max(1, threads)
    }

    /// The defaults for the kernels' current CPU level and `threads` threads.
    public static func current(threads: Int) -> MachineModel {
        let perThread: Double
        switch fk_cpu_level_current() {
        case FK_CPU_AVX512: perThread = 100e9
        case FK_CPU_AVX2: perThread = 50e9
        default: perThread = 5e9
        }
        return MachineModel(gemmFlopsPerThread: perThread, bandwidth: 35e9, threads: threads)
    }

    /// Where the rates come from, for explanations.
    public var origin: String { "rates assumed per CPU level, not measured on this machine" }

    /// Predicted seconds of one phase: bound by compute or by memory, whichever is slower.
    public func seconds(flops: Double, bytes: Double) -> Double {
        max(flops / (Double(threads) * gemmFlopsPerThread), bytes / bandwidth)
    }
}
