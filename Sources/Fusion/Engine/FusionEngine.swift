import FusionKernels

/// The fast exact forward pass (plan A of the performance issue): a model's weights packed once
/// for the FusionKernels GEMM, and a thread pool.
///
/// Create one per model and reuse it: packing reads and writes every weight once (the default
/// configuration's 122 MB take a few milliseconds on two cores; ``packingSeconds`` says how long).
/// ``fuse(_:options:)`` gives the same shapes, zero rules and errors as
/// ``FusionModel/fuseReference(_:options:)`` and agrees with it to float32 rounding; unlike the
/// reference it is bit-identical across thread counts, batch compositions, padding, runs, and
/// between plain mode on frames 0…t and per-step row t.
///
/// Thread-safe: concurrent `fuse` calls share the pool and run one parallel loop at a time.
public final class FusionEngine: @unchecked Sendable {
    /// The model whose weights were packed.
    public let model: FusionModel
    /// Threads in use (the calling thread included).
    public let threads: Int
    /// Wall-clock seconds spent packing the weights.
    public let packingSeconds: Double

    let pool: KernelPool
    let weights: PackedWeights
    /// Scratch budgets (tests lower them to exercise many chunks and attention groups).
    var budgets = EngineBudgets.standard

    /// Packs `model`'s weights with `threads` threads (0 or less: all active cores).
    public init(model: FusionModel, threads: Int = 0) {
        let count = threads > 0 ? threads : max(1, ProcessInfoCores.active)
        let clock = ContinuousClock()
        let start = clock.now
        pool = KernelPool(threads: count)
        weights = PackedWeights(model: model, pool: pool)
        packingSeconds = seconds(clock.now - start)
        self.model = model
        self.threads = pool.threads
    }

    /// Bytes held by the packed weights.
    public var packedByteCount: Int { weights.byteCount }

    /// The vector instruction level the kernels run at on this CPU: "avx512", "avx2" or "scalar".
    public static var cpuLevel: String { String(cString: fk_cpu_level_name(fk_cpu_level_current())) }
}

/// Seconds in a `Duration`.
func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}
