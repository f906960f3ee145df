/// Where a forward pass spent its time, in seconds (wall clock).
public struct FusionTimings: Sendable, Equatable {
    /// Of `forward`, packing weights on first use (0 once an engine has packed what it needs).
    public var pack: Double
    /// The forward pass itself: reading the inputs, packing due weights, X, the blocks, writing the
    /// result tensors.
    public var forward: Double
    /// Of `forward`, the vision projection X = images·Wvᵀ (reading the images included).
    public var projection: Double
    /// Of `forward`, the fusion blocks (attention and feed-forward) and the final norm.
    public var blocks: Double
    /// Sample chunks the batch was processed in.
    public var chunks: Int

    /// Timings in seconds (all 0 by default).
    public init(pack: Double = 0, forward: Double = 0, projection: Double = 0, blocks: Double = 0, chunks: Int = 0) {
        self.pack = pack
        self.forward = forward
        self.projection = projection
        self.blocks = blocks
        self.chunks = chunks
    }
}

/// The result of ``FusionEngine/fuse(_:options:)``: the tensors, the plan that produced them and
/// where the time went.
public struct FusionRun: Sendable {
    /// Output and optional attention maps, as ``FusionModel/fuseReference(_:options:)`` shapes them.
    public var result: FusionResult
    /// The plan that ran, with its cost estimates and explanation.
    public var plan: FusionPlan
    /// Measured times.
    public var timings: FusionTimings
}
