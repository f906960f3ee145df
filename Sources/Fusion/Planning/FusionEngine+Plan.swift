
extension FusionEngine {
    /// The plan ``fuse(_:options:)`` runs for `inputs`, with the cost model's estimate for every
    /// candidate and an explanation for people (`fusectl fuse --explain`).
    ///
    /// `.automatic` gives each plain-mode sample the exact plan of least weighted cost (FLOPs and weight reads) for that
    /// sample's own valid tokens (``CostModel/automaticPlainPlan(tokens:)``; the rule uses no
    /// machine rate, B or thread count, so a sample's bits are the same alone or in any batch);
    /// per-step mode runs plan A. Plain outputs of plan-B′ samples then differ from per-step rows
    /// and streaming in rounding only (within 1e-5); `.xFormed` keeps them bit-identical.
    public func plan(for inputs: FusionInputs, options: FusionOptions) -> FusionPlan {
        // A window runs plan A on every row (the plan of a streaming session).
        plan(for: FusionWorkload(inputs: inputs, options: options),
             choice: options.perStep && options.window != nil ? .xFormed : options.plan)
    }

    /// The plan for a workload described by its sizes (see ``plan(for:options:)``).
    public func plan(for workload: FusionWorkload, choice: FusionPlanChoice) -> FusionPlan {
        let model = CostModel(config: self.model.config, machine: machine)
        // Predicted seconds are the automatic rule's own per-sample costs at this machine's GEMM rate, so
        // the automatic plan is never predicted slower than a candidate it rejected (each sample takes
        // its cheapest plan; the batch's prediction is the sum). FLOPs and bytes are the whole call's.
        let rate = Double(machine.threads) * machine.gemmFlopsPerThread
        func predicted(_ kinds: [FusionPlanKind]) -> Double {
            kinds.indices.reduce(0) { $0 + model.sampleCost(kinds[$1], sample: $1, of: workload) } / rate
        }
        let estimates = FusionPlanKind.allCases.map { kind in
            var estimate = model.estimate(kind, workload: workload)
            estimate.seconds = predicted(Array(repeating: kind, count: workload.batch))
            return estimate
        }
        let sampleKinds: [FusionPlanKind]
        switch choice {
        case .reference:
            sampleKinds = workload.imageLengths.map { _ in .reference }
        case .xFormed:
            sampleKinds = workload.imageLengths.map { _ in .xFormed }
        case .projectorAbsorbed:
            sampleKinds = workload.imageLengths.map { _ in workload.perStep ? .xFormed : .projectorAbsorbed }
        case .kvFormed:
            sampleKinds = workload.imageLengths.map { _ in .kvFormed }
        case .automatic:
            sampleKinds = workload.imageLengths.map {
                workload.perStep
                    ? model.automaticPerStepPlan(frames: $0, tokensPerFrame: workload.tokensPerFrame)
                    : model.automaticPlainPlan(tokens: $0 * workload.tokensPerFrame)
            }
        }
        func count(_ kind: FusionPlanKind) -> Int { sampleKinds.filter { $0 == kind }.count }
        // The most frequent plan; `max(by:)` keeps the first of equals, so ties go to plan A.
        let kind = FusionPlanKind.allCases.max { count($0) < count($1) }!
        var chosen = PlanEstimate(kind: kind, flops: 0, bytes: 0, seconds: 0)
        for candidate in FusionPlanKind.allCases {
            let samples = sampleKinds.indices.filter { sampleKinds[$0] == candidate }
            guard !samples.isEmpty else { continue }
            let part = model.estimate(candidate, workload: workload.subset(samples))
            chosen.flops += part.flops
            chosen.bytes += part.bytes
        }
        chosen.seconds = predicted(sampleKinds)
        return FusionPlan(
            kind: kind, sampleKinds: sampleKinds, estimates: estimates, chosen: chosen, workload: workload,
            explanation: Self.explain(
                sampleKinds: sampleKinds, chosen: chosen, choice: choice, estimates: estimates, workload: workload,
                config: self.model.config, model: model))
    }

    private static func explain(
        sampleKinds: [FusionPlanKind], chosen: PlanEstimate, choice: FusionPlanChoice, estimates: [PlanEstimate],
        workload w: FusionWorkload, config: FusionConfig, model: CostModel
    ) -> String {
        let machine = model.machine
        var lines: [String] = []
        lines.append(
            "workload: B=\(w.batch) T=\(w.frames) P=\(w.tokensPerFrame) \(w.perStep ? "per-step" : "plain"), "
                + "\(w.validTokens) valid tokens, \(w.queries) queries attending \(w.attendedTokens) tokens in all; "
                + "d=\(config.projDim) H=\(config.nHeads) N=\(config.nBlocks) img=\(config.imgLatentDim) ffn=\(config.ffnDim)")
        lines.append(
            "machine model: \(machine.threads) threads x \(format(machine.gemmFlopsPerThread / 1e9)) GFLOP/s, "
                + "\(format(machine.bandwidth / 1e9)) GB/s (kernels: \(FusionEngine.cpuLevel); \(machine.origin))")
        let kinds = FusionPlanKind.allCases.filter { sampleKinds.contains($0) }
        let runs = kinds.map { kind in
            "\(kind.title) for \(sampleKinds.filter { $0 == kind }.count) of \(sampleKinds.count) samples"
        }.joined(separator: ", ")
        switch choice {
        case .reference, .xFormed, .kvFormed:
            lines.append("plan: \(runs), as requested")
        case .projectorAbsorbed:
            lines.append(
                kinds == [.projectorAbsorbed]
                    ? "plan: \(runs), as requested (its bits differ from plan A's: not comparable bit for bit with per-step rows or streaming)"
                    : "plan: \(runs) -- \(FusionPlanKind.projectorAbsorbed.title) was requested but applies to plain mode only")
        case .automatic:
            if w.perStep {
                lines.append(
                    "plan: \(runs) -- chosen per sample from its own frames (least weighted cost); "
                        + "a sample's bits never depend on B, padding or threads (--plan x-formed: plan A for all, "
                        + "bit-identical to plain --plan x-formed and streaming)")
            } else {
                let threshold = model.automaticPlainThreshold
                lines.append(
                    "plan: \(runs) -- chosen per sample from its own valid tokens: plan B' from "
                        + (threshold.map { "\($0)" } ?? "never") + " tokens on (least weighted cost), plan A below; "
                        + "a sample's bits never depend on B, padding or threads (--plan x-formed: plan A for all, "
                        + "bit-identical to per-step rows and streaming)")
            }
        }
        lines.append(
            "predicted times: each sample's cost as the automatic rule counts it (FLOPs, attention weighted "
                + "\(format(CostModel.attentionFlopWeight))x, plus weight reads at \(format(CostModel.weightByteFlops)) FLOP/byte "
                + "as one of \(Int(CostModel.nominalChunkSamples)) samples), summed, at the machine's GEMM rate; "
                + "the automatic plan is never predicted slower than a candidate it rejected")
        lines.append(
            "chosen: \(format(chosen.flops / 1e9)) GFLOP, \(format(chosen.bytes / 1e6)) MB, predicted "
                + milliseconds(chosen.seconds))
        lines.append("candidates:")
        for estimate in estimates {
            let marker = sampleKinds.contains(estimate.kind) ? "*" : " "
            lines.append(
                " \(marker) \(padded(estimate.kind.rawValue, to: 19))"
                    + " \(format(estimate.flops / 1e9)) GFLOP, \(format(estimate.bytes / 1e6)) MB, "
                    + "predicted \(milliseconds(estimate.seconds))")
        }
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String {
        formatted(value, decimals: value >= 100 ? 0 : value >= 10 ? 1 : 2)
    }

    private static func milliseconds(_ seconds: Double) -> String {
        format(seconds * 1e3) + " ms"
    }
}
