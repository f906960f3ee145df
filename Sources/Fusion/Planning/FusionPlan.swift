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

    /// A short name for tables.
    public var title: String {
        switch self {
        case .reference: return "reference (PyTorch order: K and V formed)"
        case .xFormed: return "A: X formed, K and V absorbed"
        case .projectorAbsorbed: return "B': projector absorbed"
        }
    }
}

/// Which plan ``FusionOptions/plan`` asks for.
public enum FusionPlanChoice: String, Sendable, CaseIterable, Equatable {
    /// Let the planner decide. It always picks plan A (``FusionPlanKind/xFormed``): the only plan whose
    /// per-sample arithmetic is the same for every B, padding and mode (the determinism contract).
    case automatic
    /// Plan A.
    case xFormed = "x-formed"
    /// The reference path (for comparisons and tests).
    case reference
    /// Plan B′ in plain mode (per-step mode runs plan A: there B′ costs more and would break the
    /// per-step rows' identity with plain mode). Still deterministic across threads, batches and
    /// padding, but its bits differ from plan A's.
    case projectorAbsorbed = "projector-absorbed"
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
    /// The plan that runs.
    public var kind: FusionPlanKind
    /// Every candidate, in ``FusionPlanKind/allCases`` order.
    public var estimates: [PlanEstimate]
    /// The workload the estimates are for.
    public var workload: FusionWorkload
    /// Several lines: the workload, the chosen plan and why, a table of the candidates.
    public var explanation: String

    /// The estimate of `kind`.
    public func estimate(_ kind: FusionPlanKind) -> PlanEstimate? {
        estimates.first { $0.kind == kind }
    }
}
