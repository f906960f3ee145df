/// FLOPs and bytes of each exact plan on a workload (see ``FusionPlanKind``).
///
/// With d, H, img, txt, ffn and N from the configuration, Σ S the valid tokens, Q the queries and
/// Σ A the tokens attended over all queries (``FusionWorkload``), and W_b = 4d² + 2·d·ffn the
/// weights of one block (floats):
/// - every plan: q₀ = Wt·t, 2·B·txt·d; per block and query the Q, out_proj and FFN GEMMs
///   2·(2d² + 2·d·ffn); the block weights are streamed once per sample chunk.
/// - reference: X 2·ΣS·img·d; per block K and V for every token 4·ΣS·d² and per query
///   scores and sums 4·A·d; K and V written and read.
/// - A (x-formed): X 2·ΣS·img·d; per block and query r_h and Wvv·z 4d², scores and sums
///   4·A·H·d, reading the query's X rows.
/// - B′ (projector absorbed): per block and query Wvᵀ·r_h and Wv·z_h 4·H·d·img, plus r_h and Wvv
///   4d²; scores and sums over the raw images 4·A·H·img, reading the image rows every block.
/// - C (K and V formed): X 2·ΣS·img·d; per block K and V for every token 4·ΣS·d², per query its
///   scaled query (no GEMM), scores and sums over head-sized rows 4·A·d; K and V written and read.
public struct CostModel: Sendable {
    /// The model's sizes.
    public let config: FusionConfig
    /// The rates that turn FLOPs and bytes into seconds.
    public let machine: MachineModel

    /// A cost model for `config` on `machine`.
    public init(config: FusionConfig, machine: MachineModel) {
        self.config = config
        self.machine = machine
    }

    /// The estimate of `kind` on `workload`.
    public func estimate(_ kind: FusionPlanKind, workload w: FusionWorkload) -> PlanEstimate {
        let d = Double(config.projDim)
        let heads = Double(config.nHeads)
        let img = Double(config.imgLatentDim)
        let txt = Double(config.txtLatentDim)
        let ffn = Double(config.ffnDim)
        let blocks = Double(config.nBlocks)
        let samples = Double(w.batch)
        let tokens = Double(w.validTokens)
        let queries = Double(w.queries)
        let attended = Double(w.attendedTokens)
        let float = 4.0
        let chunks = max(1, (Double(w.validTokens) * d / Double(EngineBudgets.standard.tokenFloats)).rounded(.up))

        var phases: [(flops: Double, bytes: Double)] = []
        // q₀ and the shared per-query GEMMs (Q, out_proj, FFN) of every block.
        let sharedWeights = 2 * d * d + 2 * d * ffn
        phases.append((2 * samples * txt * d, samples * txt * float + txt * d * float))
        phases.append((
            blocks * queries * 2 * sharedWeights,
            blocks * chunks * sharedWeights * float + blocks * queries * (4 * d + 2 * ffn) * float))
        switch kind {
        case .reference:
            phases.append((2 * tokens * img * d, tokens * img * float + tokens * d * float + img * d * float))
            phases.append((blocks * 4 * tokens * d * d, blocks * (2 * d * d + 5 * tokens * d) * float))
            phases.append((blocks * 4 * attended * d, blocks * 2 * attended * d * float))
        case .xFormed:
            phases.append((2 * tokens * img * d, tokens * img * float + tokens * d * float + chunks * img * d * float))
            phases.append((blocks * queries * 4 * d * d, blocks * chunks * 2 * d * d * float))
            phases.append((blocks * 4 * attended * heads * d, blocks * attended * d * float))
        case .projectorAbsorbed:
            phases.append((
                blocks * queries * (4 * heads * d * img + 4 * d * d),
                blocks * chunks * (2 * d * d + d * img) * float))
            phases.append((blocks * 4 * attended * heads * img, blocks * attended * img * float))
        case .kvFormed:
            phases.append((2 * tokens * img * d, tokens * img * float + tokens * d * float + chunks * img * d * float))
            phases.append((blocks * 4 * tokens * d * d, blocks * (chunks * 2 * d * d + 5 * tokens * d) * float))
            phases.append((blocks * 4 * attended * d, blocks * 2 * attended * d * float))
        }
        let flops = phases.reduce(0) { $0 + $1.flops }
        let bytes = phases.reduce(0) { $0 + $1.bytes }
        let seconds = phases.reduce(0) { $0 + machine.seconds(flops: $1.flops, bytes: $1.bytes) }
        return PlanEstimate(kind: kind, flops: flops, bytes: bytes, seconds: seconds)
    }

    /// How much more an attention FLOP (scores and weighted sums: a pass over token rows per query
    /// and head) costs than a GEMM FLOP, for ``automaticPlainPlan(tokens:)``. A fixed number, not a
    /// machine rate, so that the rule gives every machine, thread count and batch the same plan.
    public static let attentionFlopWeight = 2.0

    /// The plan the automatic choice runs for one plain-mode sample with `tokens` valid image tokens
    /// (S = image_length·P): plan B′ where its FLOPs for this sample alone, attention weighted by
    /// ``attentionFlopWeight``, are fewer than plan A's, else plan A. Per sample, with the shared
    /// per-query GEMMs left out (both plans run them):
    /// - A: X `2·S·img·d`, per block r_h and Wvv `4d²`, attention `4·S·H·d·w`;
    /// - B′: per block `4·H·d·img + 4d²`, attention `4·S·H·img·w`.
    /// Depends on the configuration and `tokens` only (never B, padding, threads or the machine).
    public func automaticPlainPlan(tokens: Int) -> FusionPlanKind {
        let s = Double(tokens)
        let d = Double(config.projDim)
        let heads = Double(config.nHeads)
        let img = Double(config.imgLatentDim)
        let blocks = Double(config.nBlocks)
        let w = Self.attentionFlopWeight
        let xFormed = 2 * s * img * d + blocks * (4 * d * d + 4 * s * heads * d * w)
        let absorbed = blocks * (4 * heads * d * img + 4 * d * d + 4 * s * heads * img * w)
        return absorbed < xFormed ? .projectorAbsorbed : .xFormed
    }

    /// The plan the automatic choice runs for the per-step rows of one sample with `frames` valid
    /// frames of `tokensPerFrame` tokens (S = frames·P tokens, one query per frame attending
    /// A = P·frames·(frames+1)/2 tokens in all): plan C where its FLOPs for this sample, attention
    /// weighted by ``attentionFlopWeight``, are fewer than plan A's, else plan A. Per block, with
    /// the GEMMs both plans run left out (X, Q, out_proj, FFN):
    /// - A: per query r_h and Wvv `4d²`, attention `4·A·H·d·w`;
    /// - C: K and V `4·S·d²`, attention `4·A·d·w`.
    /// With one token per frame C does the same GEMM work and H times less attention, so it wins
    /// whenever H > 1. Depends on the configuration and the sample's sizes only.
    public func automaticPerStepPlan(frames: Int, tokensPerFrame: Int) -> FusionPlanKind {
        let d = Double(config.projDim)
        let heads = Double(config.nHeads)
        let w = Self.attentionFlopWeight
        let queries = Double(frames)
        let tokens = Double(frames * tokensPerFrame)
        let attended = Double(tokensPerFrame) * queries * (queries + 1) / 2
        let xFormed = queries * 4 * d * d + 4 * attended * heads * d * w
        let kvFormed = tokens * 4 * d * d + 4 * attended * d * w
        return kvFormed < xFormed ? .kvFormed : .xFormed
    }

    /// The fewest valid tokens from which ``automaticPlainPlan(tokens:)`` chooses plan B′ (it does
    /// for every larger count too: B′'s per-token cost is the smaller one), or nil if it never does.
    public var automaticPlainThreshold: Int? {
        // The two costs differ by a linear function of S, so the choice switches at most once.
        var low = 1
        var high = 1 << 40
        guard automaticPlainPlan(tokens: high) == .projectorAbsorbed else { return nil }
        while low < high {
            let mid = low + (high - low) / 2
            if automaticPlainPlan(tokens: mid) == .projectorAbsorbed { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
