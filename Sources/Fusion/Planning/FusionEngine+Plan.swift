import Foundation

extension FusionEngine {
    /// The plan ``fuse(_:options:)`` runs for `inputs`, with the cost model's estimate for every
    /// candidate and an explanation for people (`fusectl fuse --explain`).
    ///
    /// `.automatic` always chooses plan A (``FusionPlanKind/xFormed``), even where another plan is
    /// predicted cheaper: it is the only plan whose arithmetic for a sample depends on nothing but
    /// that sample's valid tokens, which is what makes outputs bit-identical across batch
    /// compositions, padding, thread counts, per-step rows and a streaming session. The explanation
    /// says so when a cheaper candidate exists.
    public func plan(for inputs: FusionInputs, options: FusionOptions) -> FusionPlan {
        plan(for: FusionWorkload(inputs: inputs, options: options), choice: options.plan)
    }

    /// The plan for a workload described by its sizes (see ``plan(for:options:)``).
    public func plan(for workload: FusionWorkload, choice: FusionPlanChoice) -> FusionPlan {
        let model = CostModel(config: self.model.config, machine: .current(threads: threads))
        let estimates = FusionPlanKind.allCases.map { model.estimate($0, workload: workload) }
        let kind: FusionPlanKind
        switch choice {
        case .reference: kind = .reference
        case .projectorAbsorbed: kind = workload.perStep ? .xFormed : .projectorAbsorbed
        case .automatic, .xFormed: kind = .xFormed
        }
        return FusionPlan(
            kind: kind, estimates: estimates, workload: workload,
            explanation: Self.explain(kind: kind, choice: choice, estimates: estimates, workload: workload,
                                      config: self.model.config, machine: model.machine))
    }

    private static func explain(
        kind: FusionPlanKind, choice: FusionPlanChoice, estimates: [PlanEstimate], workload w: FusionWorkload,
        config: FusionConfig, machine: MachineModel
    ) -> String {
        var lines: [String] = []
        lines.append(
            "workload: B=\(w.batch) T=\(w.frames) P=\(w.tokensPerFrame) \(w.perStep ? "per-step" : "plain"), "
                + "\(w.validTokens) valid tokens, \(w.queries) queries attending \(w.attendedTokens) tokens in all; "
                + "d=\(config.projDim) H=\(config.nHeads) N=\(config.nBlocks) img=\(config.imgLatentDim) ffn=\(config.ffnDim)")
        lines.append(
            "machine model: \(machine.threads) threads x \(format(machine.gemmFlopsPerThread / 1e9)) GFLOP/s, "
                + "\(format(machine.bandwidth / 1e9)) GB/s (kernels: \(FusionEngine.cpuLevel))")
        switch choice {
        case .reference, .xFormed:
            lines.append("plan: \(kind.title), as requested")
        case .projectorAbsorbed:
            lines.append(
                kind == .projectorAbsorbed
                    ? "plan: \(kind.title), as requested (its bits differ from plan A's: not comparable bit for bit with per-step rows or streaming)"
                    : "plan: \(kind.title) -- \(FusionPlanKind.projectorAbsorbed.title) was requested but applies to plain mode only")
        case .automatic:
            lines.append(
                "plan: \(kind.title) -- chosen because a sample's arithmetic then depends only on its own "
                    + "valid tokens (fixed \(attentionChunkTokens)-token attention chunks), so outputs are bit-identical "
                    + "across threads, batches, padding, per-step rows and streaming")
            let chosen = estimates.first { $0.kind == kind }!
            if let cheaper = estimates.filter({ $0.seconds < chosen.seconds }).min(by: { $0.seconds < $1.seconds }) {
                lines.append(
                    "note: \(cheaper.kind.title) is predicted faster here (\(milliseconds(cheaper.seconds)) vs "
                        + "\(milliseconds(chosen.seconds))) but rounds differently for a history and its prefixes, "
                        + "so it is never chosen automatically")
            }
        }
        lines.append("candidates:")
        for estimate in estimates {
            let marker = estimate.kind == kind ? "*" : " "
            lines.append(
                " \(marker) \(estimate.kind.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0))"
                    + " \(format(estimate.flops / 1e9)) GFLOP, \(format(estimate.bytes / 1e6)) MB, "
                    + "predicted \(milliseconds(estimate.seconds))")
        }
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String {
        String(format: value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f", value)
    }

    private static func milliseconds(_ seconds: Double) -> String {
        format(seconds * 1e3) + " ms"
    }
}
