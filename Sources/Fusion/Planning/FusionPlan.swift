/// An exact way of computing the forward pass of docs/model.md (they differ in operation order, not in meaning).
public enum FusionPlanKind: String, Sendable, CaseIterable, Equatable {
    /// What the PyTorch reference does: X, then per block K = X·Wkᵀ + bk and V = X·Wvᵀ + bv for every
    /// token, scores Q·Kᵀ, a·V. Runs as ``FusionModel/fuseReference(_:options:)`` (slow, simple).
    case reference
    /// Plan A: X formed once per sample; K and V absorbed into the query side
    /// (`r_h = Wk_hᵀ·Q_h/√dh`, scores `X·r_h`; `o_h = Wvv_h·(a_h·X) + bv_h`). The engine's plan.
    case xFormed = "x-formed"
    /// Plan B′: the vision projector absorbed too (scores `images·(Wvᵀ·r_h)`, `o_h = Wvv_h·Wv·(a_h·images)`):
    /// X is never formed. Fewer FLOPs for long histories in plain mode, but a different rounding
    /// from plan A, so its outputs are not bit-identical to per-step rows or a streaming session;
    /// opt-in (``FusionPlanChoice/projectorAbsorbed``), plain mode only.
    case projectorAbsorbed = "projector-absorbed"
    /// K and V formed per block for every valid token (`K = X·Wkᵀ + bk`, `V = X·Wvvᵀ + bv`), then
    /// per head scores `K_h·(Q_h/√dh)` and sums `a_h·V_h` of head size d/H: the reference's order, on
    /// the engine's kernels. Pays for itself when many queries share the same frames (per-step
    /// mode: the T queries of a sample attend over prefixes of one set of K and V rows).
    case kvFormed = "kv-formed"

    /// A short name for tables.
    public var title: String {
        switch self {
        case .reference: return "reference (PyTorch order: K and V formed)"
        case .xFormed: return "A: X formed, K and V absorbed"
        case .projectorAbsorbed: return "B': projector absorbed"
        case .kvFormed: return "C: K and V formed"
        }
    }
}

/// Which plan ``FusionOptions/plan`` asks for.
public enum FusionPlanChoice: String, Sendable, CaseIterable, Equatable {
    /// Let the planner decide, sample by sample: each sample runs the exact plan of least weighted cost
    /// (FLOPs and weight reads, ``CostModel/sampleCost(_:tokens:queries:attended:)``) for its own sizes —
    /// in plain mode plan A for short histories and plan B′ for long ones (C for a single token)
    /// (``CostModel/automaticPlainPlan(tokens:)``), in per-step mode plan C or plan A
    /// (``CostModel/automaticPerStepPlan(frames:tokensPerFrame:)``) — so a sample's plan, and its bits,
    /// depend on nothing but its own sizes: not on B, its batch neighbours, padding or threads.
    case automatic
    /// Plan A for every sample, in every mode: plain outputs then equal per-step rows and a
    /// streaming session's vectors bit for bit.
    case xFormed = "x-formed"
    /// The reference path (for comparisons and tests).
    case reference
    /// Plan B′ in plain mode (per-step mode runs plan A: there B′ costs more and would break the
    /// per-step rows' identity with plain mode). Still deterministic across threads, batches and
    /// padding, but its bits differ from plan A's.
    case projectorAbsorbed = "projector-absorbed"
    /// Plan C (K and V formed) for every sample, in either mode: plain output on frames 0…t then
    /// equals per-step row t bit for bit.
    case kvFormed = "kv-formed"
}

/// The predicted cost of one plan on one workload.
public struct PlanEstimate: Sendable, Equatable {
    /// The plan estimated.
    public var kind: FusionPlanKind
    /// Floating-point operations (a multiply-add counts 2).
    public var flops: Double
    /// Bytes moved to and from memory (inputs read, intermediates written and read, weights streamed).
    public var bytes: Double
    /// Predicted wall-clock seconds on the ``MachineModel``.
    public var seconds: Double
}

/// The planner's decision for one call: the plan that runs, every candidate's estimate and a
/// human explanation (what `fusectl fuse --explain` prints).
public struct FusionPlan: Sendable, Equatable {
    /// The plan most samples run (every sample's, unless ``isMixed``; ties go to plan A).
    public var kind: FusionPlanKind
    /// The plan each sample runs (B entries).
    public var sampleKinds: [FusionPlanKind]
    /// Every candidate run for the whole batch, in ``FusionPlanKind/allCases`` order.
    public var estimates: [PlanEstimate]
    /// The estimate of what runs: the sum of each plan's estimate over its own samples (its `kind`
    /// is ``kind``).
    public var chosen: PlanEstimate
    /// The workload the estimates are for.
    public var workload: FusionWorkload
    /// Several lines: the workload, the chosen plan and why, a table of the candidates.
    public var explanation: String

    /// The estimate of `kind` run for every sample.
    public func estimate(_ kind: FusionPlanKind) -> PlanEstimate? {
        estimates.first { $0.kind == kind }
    }

    /// The plans that run, joined by "+" (e.g. `x-formed+projector-absorbed`), for reports.
    public var runName: String {
        FusionPlanKind.allCases.filter { sampleKinds.contains($0) }.map(\.rawValue).joined(separator: "+")
    }

    /// Whether samples run different plans.
    public var isMixed: Bool { Set(sampleKinds).count > 1 }

    /// How many samples run `kind`.
    public func sampleCount(_ kind: FusionPlanKind) -> Int {
        sampleKinds.reduce(0) { $0 + ($1 == kind ? 1 : 0) }
    }
}
