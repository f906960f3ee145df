/// What a forward pass should produce and how many threads it may use.
public struct FusionOptions: Sendable, Equatable {
    /// false: plain mode, output (B, 1, d). true: per-step mode, output (B, T, d) where row t is
    /// plain fusion of frames 0…t and rows t ≥ image_lengths[b] are zero.
    public var perStep: Bool = false
    /// Whether to return the attention weights too.
    public var attention: Bool = false
    /// Worker threads; 0 (or less) means all active cores. Results do not depend on it.
    public var threads: Int = 0
    /// Which exact plan ``FusionModel/fuse(_:options:)`` runs (see ``FusionPlanChoice``); the reference
    /// path ignores it.
    public var plan: FusionPlanChoice = .automatic
    /// Per-step mode only: row t sees only the most recent `window` frames, t − window + 1 … t, as
    /// `stream --window` does (every row then runs plan A; see ``FusionEngine/fuseWindowed(_:window:attention:)``).
    /// nil: every row sees frames 0 … t.
    public var window: Int?

    /// Plain mode, no attention maps, all cores and the automatic plan unless told otherwise.
    public init(perStep: Bool = false, attention: Bool = false, threads: Int = 0, plan: FusionPlanChoice = .automatic) {
        self.perStep = perStep
        self.attention = attention
        self.threads = threads
        self.plan = plan
    }

    /// The thread count to use: `threads`, or the active core count when it is 0 (at least 1).
    public var resolvedThreads: Int {
        threads > 0 ? threads : max(1, ProcessInfoCores.active)
    }
}

/// The output of a forward pass.
public struct FusionResult: Sendable, Equatable {
    /// (B, 1, d) in plain mode or (B, T, d) in per-step mode, float32.
    public var output: Tensor
    /// When requested: (B, N, H, T·P) in plain mode or (B, T, N, H, T·P) in per-step mode;
    /// zero at masked tokens and for steps t ≥ image_lengths[b]; each other row sums to 1.
    public var attention: Tensor?

    /// Wraps an output and optional attention maps.
    public init(output: Tensor, attention: Tensor?) {
        self.output = output
        self.attention = attention
    }
}
