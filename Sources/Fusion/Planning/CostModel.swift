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
    /// and head) costs than a GEMM FLOP, for the automatic rule (``sampleCost(_:tokens:queries:attended:)``).
    /// A fixed number, not a machine rate, so that the rule gives every machine, thread count and batch
    /// the same plan.
    public static let attentionFlopWeight = 2.0

    /// What one byte of weights read is worth to the automatic rule, in GEMM FLOPs: a fixed machine
    /// balance (an FMA rate over a memory bandwidth; 566 GFLOP/s over 53–97 GB/s on the Zen 5 machine
    /// of docs/performance.md), never a measured rate.
    public static let weightByteFlops = 8.0

    /// The samples a chunk's weight reads are spread over by the automatic rule: a sample is costed as
    /// one of 8 (the small-batch end measured in docs/performance.md, "The automatic plan on small
    /// batches"), whatever batch it is in, so that its plan depends on its own sizes only. Plan B′ reads
    /// the vision projector twice in every block where plans A and C read it once, so this is what
    /// keeps short histories on plan A.
    public static let nominalChunkSamples = 8.0

    /// The automatic rule's cost of one sample under `kind`, in weighted GEMM FLOPs: its FLOPs,
    /// attention weighted by ``attentionFlopWeight``, plus the weights each plan reads, at
    /// ``weightByteFlops`` per byte over a chunk of ``nominalChunkSamples`` samples. With S the sample's
    /// valid tokens, Q its queries (1 plain, its frames per step), A the tokens they attend (S plain,
    /// P·f(f+1)/2 per step), w the attention weight and ω = 4·weightByteFlops / nominalChunkSamples per
    /// float of weights:
    /// - every plan: q₀ `2·txt·d`, per block and query Q, out_proj and FFN `2·(2d² + 2d·ffn)`, and
    ///   their weights `ω·N·(2d² + 2d·ffn)`;
    /// - A: X `2·S·img·d`, per block `Q·4d² + 4·A·H·d·w`, weights `ω·(d·img + N·2d²)`;
    /// - B′ (plain mode; per step it runs as A): per block `Q·(4·H·d·img + 4d²) + 4·A·H·img·w`,
    ///   weights `ω·N·(2·d·img + 2d²)`;
    /// - C: X `2·S·img·d`, per block `4·S·d² + 4·A·d·w`, weights `ω·(d·img + N·2d²)`;
    /// - reference: twice plan C's (the same arithmetic in plain loops, not the tiled kernels).
    /// Depends on the configuration and the sample's sizes only (never B, padding, threads or the machine).
    public func sampleCost(_ kind: FusionPlanKind, tokens: Int, queries: Int, attended: Int) -> Double {
        let d = Double(config.projDim), heads = Double(config.nHeads), img = Double(config.imgLatentDim)
        let txt = Double(config.txtLatentDim), ffn = Double(config.ffnDim), blocks = Double(config.nBlocks)
        let (s, q, a) = (Double(tokens), Double(queries), Double(attended))
        let w = Self.attentionFlopWeight
        let omega = 4 * Self.weightByteFlops / Self.nominalChunkSamples
        let shared = 2 * txt * d + blocks * q * 2 * (2 * d * d + 2 * d * ffn) + omega * blocks * (2 * d * d + 2 * d * ffn)
        let kvFormed = 2 * s * img * d + blocks * (4 * s * d * d + 4 * a * d * w) + omega * (d * img + blocks * 2 * d * d)
        switch kind {
        case .xFormed:
            return shared + 2 * s * img * d + blocks * (q * 4 * d * d + 4 * a * heads * d * w)
                + omega * (d * img + blocks * 2 * d * d)
        case .projectorAbsorbed:
            return shared + blocks * (q * (4 * heads * d * img + 4 * d * d) + 4 * a * heads * img * w)
                + omega * blocks * (2 * d * img + 2 * d * d)
        case .kvFormed:
            return shared + kvFormed
        case .reference:
            return 2 * (shared + kvFormed)
        }
    }

    /// The rule's cost of sample `b` of `workload` under `kind` (per step, B′ runs as plan A).
    func sampleCost(_ kind: FusionPlanKind, sample b: Int, of workload: FusionWorkload) -> Double {
        let frames = workload.imageLengths[b], p = workload.tokensPerFrame
        let effective = workload.perStep && kind == .projectorAbsorbed ? .xFormed : kind
        return sampleCost(
            effective, tokens: frames * p, queries: workload.perStep ? frames : 1,
            attended: workload.perStep ? p * frames * (frames + 1) / 2 : frames * p)
    }

    /// The plan the automatic choice runs for one plain-mode sample with `tokens` valid image tokens
    /// (S = image_length·P): the exact plan (A, B′ or C) of the least ``sampleCost(_:tokens:queries:attended:)``,
    /// plan A on ties. In effect plan A below a threshold of tokens (``automaticPlainThreshold``) and B′
    /// from it; C, which forms K and V for every token for one query, wins only for a single token
    /// (where it does plan A's GEMM work with H times less attention).
    public func automaticPlainPlan(tokens: Int) -> FusionPlanKind {
        [FusionPlanKind.xFormed, .projectorAbsorbed, .kvFormed].min {
            sampleCost($0, tokens: tokens, queries: 1, attended: tokens)
                < sampleCost($1, tokens: tokens, queries: 1, attended: tokens)
        }!
    }

    /// The plan the automatic choice runs for the per-step rows of one sample with `frames` valid
    /// frames of `tokensPerFrame` tokens: plan C or plan A, whichever has the smaller
    /// ``sampleCost(_:tokens:queries:attended:)`` (A on ties). Both read the same weights and form X; C
    /// forms K and V once for the sample's S tokens (`4·S·d²` a block) where A pays `4d²` a query, and C's
    /// attention is H times cheaper, so with one token per frame C wins whenever H > 1; short histories of
    /// many tokens per frame go to A.
    public func automaticPerStepPlan(frames: Int, tokensPerFrame: Int) -> FusionPlanKind {
        let tokens = frames * tokensPerFrame, attended = tokensPerFrame * frames * (frames + 1) / 2
        let a = sampleCost(.xFormed, tokens: tokens, queries: frames, attended: attended)
        let c = sampleCost(.kvFormed, tokens: tokens, queries: frames, attended: attended)
        return c < a ? .kvFormed : .xFormed
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
