import FusionKernels

/// The fast exact forward pass: a model's weights prepared for the FusionKernels GEMM, a thread
/// pool, and three exact plans (A: X formed, K and V absorbed; B′: the projector absorbed too; C: K
/// and V formed), chosen per sample by ``plan(for:options:)`` (see ``FusionPlanKind``).
///
/// Create one per model and reuse it. Weights are read in place (batched GEMMs pack 256 × 256
/// blocks on the fly into a per-thread buffer); a matrix that one-row GEMMs use twice (a stream's
/// second step) is packed once and stays packed (see `EngineWeights`). ``packAll()`` packs
/// everything up front.
/// ``fuse(_:options:)`` gives the same shapes, zero rules and errors as
/// ``FusionModel/fuseReference(_:options:)`` and agrees with it to float32 rounding; unlike the
/// reference, a sample's bits do not depend on thread counts, batch compositions, padding or runs,
/// and under one plan (`.xFormed`, `.kvFormed`) plain mode on frames 0…t equals per-step row t.
///
/// Thread-safe: concurrent `fuse` calls share the pool and run one parallel loop at a time.
public final class FusionEngine: @unchecked Sendable {
    /// The model the engine runs.
    public let model: FusionModel
    /// Threads in use (the calling thread included).
    public let threads: Int
    let pool: KernelPool
    let weights: EngineWeights
    /// Scratch budgets (tests lower them to exercise many chunks and attention groups).
    var budgets = EngineBudgets.standard
    /// The rates the planner's predicted times use (``MachineModel/current(threads:)`` until
    /// ``measureMachine()``). Never changes which plan runs.
    public private(set) var machine: MachineModel

    /// Measures the machine's GEMM rate and memory bandwidth (about 40 ms) for the planner's
    /// predictions (`fusectl fuse --explain`).
    public func measureMachine() {
        machine = .measured(pool: pool)
    }

    /// An engine for `model` with `threads` threads (0 or less: all active cores). Cheap: copies
    /// the biases and LayerNorm vectors and starts the pool; packing happens on demand.
    public init(model: FusionModel, threads: Int = 0) {
        pool = KernelPool(threads: FusionOptions(threads: threads).resolvedThreads)
        weights = EngineWeights(model: model)
        self.model = model
        self.threads = pool.threads
        machine = .current(threads: pool.threads)
    }

    /// Packs every weight matrix now (for callers about to run many batches or steps) and returns
    /// the seconds it took; matrices already packed are skipped.
    @discardableResult
    public func packAll() -> Double {
        weights.packAll(pool: pool)
    }

    /// Bytes the packed weights take once all are packed (about the model's float32 size).
    public var packedByteCount: Int { weights.packedByteCount }

    /// The vector instruction level the kernels run at on this CPU: "avx512", "avx2" or "scalar".
    public static var cpuLevel: String { String(cString: fk_cpu_level_name(fk_cpu_level_current())) }
}

/// Seconds in a `Duration`.
func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}
