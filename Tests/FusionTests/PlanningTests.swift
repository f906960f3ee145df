import Testing
@testable import Fusion

/// The planner and its cost model.
@Suite struct PlanningTests {
    static let engine: FusionEngine = {
        let config = EngineFixtures.config(heads: 2, headDim: 8)
        return FusionEngine(model: try! ModelFactory.model(config), threads: 2)
    }()

    @Test func workloadCountsTokensAndQueries() {
        let plain = FusionWorkload(imageLengths: [3, 1, 4], frames: 4, tokensPerFrame: 2, perStep: false)
        #expect(plain.validTokens == 16 && plain.queries == 3 && plain.attendedTokens == 16)
        let steps = FusionWorkload(imageLengths: [3, 1, 4], frames: 4, tokensPerFrame: 2, perStep: true)
        // Σ_b Σ_{t<len} (t+1)·P = 2·(6 + 1 + 10)
        #expect(steps.validTokens == 16 && steps.queries == 8 && steps.attendedTokens == 34)
    }

    @Test func costModelMatchesHandCountsForPlanA() {
        // Default sizes, B = 1, T = 64: q₀ + X + N·(Q, r, Wvv, out, FFN GEMMs + attention).
        let config = FusionConfig()
        let model = CostModel(config: config, machine: MachineModel(gemmFlopsPerThread: 1e11, bandwidth: 1e10, threads: 2))
        let w = FusionWorkload(imageLengths: [64], frames: 64, tokensPerFrame: 1, perStep: false)
        let d = 768.0, img = 2048.0, txt = 768.0, ffn = 3072.0, heads = 8.0
        let expected = 2 * txt * d + 2 * 64 * img * d + 4 * (2 * (4 * d * d + 2 * d * ffn) + 4 * 64 * heads * d)
        #expect(model.estimate(.xFormed, workload: w).flops == expected)
    }

    @Test func planAIsCheaperThanTheReferenceOrderInPlainMode() {
        let model = CostModel(config: FusionConfig(), machine: .current(threads: 2))
        let workloads = [
            FusionWorkload(imageLengths: [64], frames: 64, tokensPerFrame: 1, perStep: false),
            FusionWorkload(imageLengths: Array(repeating: 128, count: 256), frames: 128, tokensPerFrame: 1, perStep: false),
            FusionWorkload(imageLengths: Array(repeating: 1024, count: 4), frames: 1024, tokensPerFrame: 4, perStep: false),
            FusionWorkload(imageLengths: Array(repeating: 128, count: 8), frames: 128, tokensPerFrame: 1, perStep: true),
        ]
        for w in workloads where !w.perStep {
            let a = model.estimate(.xFormed, workload: w)
            let reference = model.estimate(.reference, workload: w)
            #expect(a.flops < reference.flops, "B=\(w.batch): plan A \(a.flops) vs reference \(reference.flops)")
            #expect(a.seconds < reference.seconds)
        }
        // Per-step mode (W4): every query pays r_h and Wvv·z (4d² per block) where the reference forms
        // K and V once per sample, and attention costs H times more: plan A needs about 9% more FLOPs.
        let stepsA = model.estimate(.xFormed, workload: workloads[3]).flops
        let stepsReference = model.estimate(.reference, workload: workloads[3]).flops
        #expect(stepsA > stepsReference && stepsA < 1.1 * stepsReference, "\(stepsA) vs \(stepsReference)")
        // Long plain histories: the projector-absorbed plan needs fewer FLOPs (X is never formed) ...
        let long = workloads[2]
        #expect(model.estimate(.projectorAbsorbed, workload: long).flops < model.estimate(.xFormed, workload: long).flops)
        // ... but not in per-step mode, where every query re-reads raw images in every block.
        let steps = workloads[3]
        #expect(model.estimate(.projectorAbsorbed, workload: steps).flops > model.estimate(.xFormed, workload: steps).flops)
    }

    @Test func automaticChoosesPerSampleFromItsOwnTokensAndSaysWhy() throws {
        // W1-sized samples run plan A, W2-, W3- and W5-sized ones plan B′; default model sizes.
        let model = CostModel(config: FusionConfig(), machine: .current(threads: 2))
        #expect(model.automaticPlainPlan(tokens: 64) == .xFormed)
        #expect(model.automaticPlainPlan(tokens: 128) == .projectorAbsorbed)
        #expect(model.automaticPlainPlan(tokens: 4096) == .projectorAbsorbed)
        let threshold = try #require(model.automaticPlainThreshold)
        #expect(threshold == 88, "docs/design.md quotes 88 tokens for the default model")
        // A single token: plan C does plan A's GEMMs with H times less attention.
        #expect(model.automaticPlainPlan(tokens: 1) == .kvFormed && model.automaticPlainPlan(tokens: 2) == .xFormed)
        // The user model of issue 19 (img 1024, txt 512, d 256, 4 heads, 3 blocks): B′ from 40 tokens, where
        // a batch of 8 runs it as fast as plan A (docs/performance.md).
        var userConfig = FusionConfig()
        (userConfig.imgLatentDim, userConfig.txtLatentDim, userConfig.projDim) = (1024, 512, 256)
        (userConfig.nHeads, userConfig.nBlocks, userConfig.ffnDim) = (4, 3, 1024)
        let user = CostModel(config: userConfig, machine: .current(threads: 2))
        #expect(user.automaticPlainThreshold == 40)
        #expect(model.automaticPlainPlan(tokens: threshold) == .projectorAbsorbed)
        #expect(model.automaticPlainPlan(tokens: threshold - 1) == .xFormed)
        // The choice does not depend on the machine model (thread count, rates).
        let other = CostModel(config: FusionConfig(), machine: MachineModel(gemmFlopsPerThread: 1, bandwidth: 1, threads: 64))
        for tokens in [1, threshold - 1, threshold, 10_000] {
            #expect(other.automaticPlainPlan(tokens: tokens) == model.automaticPlainPlan(tokens: tokens))
        }

        let engineThreshold = try #require(CostModel(config: Self.engine.model.config, machine: .current(threads: 1))
            .automaticPlainThreshold)
        let lengths = [engineThreshold - 1, engineThreshold, 2, engineThreshold + 5]
        let mixed = FusionWorkload(imageLengths: lengths, frames: engineThreshold + 5, tokensPerFrame: 1, perStep: false)
        let plan = Self.engine.plan(for: mixed, choice: .automatic)
        #expect(plan.sampleKinds == [.xFormed, .projectorAbsorbed, .xFormed, .projectorAbsorbed])
        #expect(plan.isMixed && plan.kind == .xFormed && plan.runName == "x-formed+projector-absorbed")
        #expect(plan.estimates.map(\.kind) == FusionPlanKind.allCases)
        let parts = costModel(for: Self.engine).estimate(.xFormed, workload: mixed.subset([0, 2])).flops
            + costModel(for: Self.engine).estimate(.projectorAbsorbed, workload: mixed.subset([1, 3])).flops
        #expect(plan.chosen.flops == parts)
        #expect(plan.explanation.contains(
            "plan: A: X formed, K and V absorbed for 2 of 4 samples, B': projector absorbed for 2 of 4 samples -- chosen per sample"))
        #expect(plan.explanation.contains("plan B' from \(engineThreshold) tokens on"))
        #expect(plan.explanation.contains("* x-formed") && plan.explanation.contains("* projector-absorbed"))
        #expect(Self.engine.plan(for: mixed, choice: .xFormed).sampleKinds == Array(repeating: .xFormed, count: 4))
        #expect(Self.engine.plan(for: mixed, choice: .reference).kind == .reference)
        #expect(Self.engine.plan(for: mixed, choice: .projectorAbsorbed).kind == .projectorAbsorbed)
        // Per-step mode: plan C with one token per frame (same GEMMs, H times less attention); plan A
        // when B′ is requested, and the explanation says why.
        let steps = FusionWorkload(imageLengths: [5, 3], frames: 5, tokensPerFrame: 1, perStep: true)
        #expect(Self.engine.plan(for: steps, choice: .automatic).sampleKinds == [.kvFormed, .kvFormed])
        #expect(model.automaticPerStepPlan(frames: 128, tokensPerFrame: 1) == .kvFormed)
        // Many tokens per frame and short histories: forming K and V for every token costs more.
        #expect(model.automaticPerStepPlan(frames: 2, tokensPerFrame: 16) == .xFormed)
        #expect(Self.engine.plan(for: steps, choice: .kvFormed).sampleKinds == [.kvFormed, .kvFormed])
        #expect(Self.engine.plan(for: mixed, choice: .kvFormed).sampleKinds == Array(repeating: .kvFormed, count: 4))
        let stepsPlan = Self.engine.plan(for: steps, choice: .projectorAbsorbed)
        #expect(stepsPlan.kind == .xFormed)
        #expect(stepsPlan.explanation.contains("was requested but applies to plain mode only"))
    }

    /// The automatic plan is never predicted slower than a candidate it rejected (issue 19): over small
    /// batches (B ≤ 8, T ≤ 64), ragged lengths, 1 and 3 tokens per frame, both modes and two model sizes,
    /// under any machine rates.
    @Test func theAutomaticPlanIsNeverPredictedSlowerThanARejectedCandidate() throws {
        var user = FusionConfig()
        (user.imgLatentDim, user.txtLatentDim, user.projDim, user.nHeads, user.nBlocks, user.ffnDim) = (1024, 512, 256, 4, 3, 1024)
        for config in [FusionConfig(), user, Self.engine.model.config] {
            let engine = FusionEngine(model: try ModelFactory.model(config), threads: 2)
            for batch in [1, 2, 5, 8] {
                for frames in [1, 2, 16, 40, 64] {
                    for p in [1, 3] {
                        for perStep in [false, true] {
                            let lengths = (0..<batch).map { max(1, frames - ($0 * 7) % frames) }
                            let plan = engine.plan(for: FusionWorkload(imageLengths: lengths, frames: frames, tokensPerFrame: p,
                                                                       perStep: perStep), choice: .automatic)
                            for candidate in plan.estimates {
                                #expect(plan.chosen.seconds <= candidate.seconds * (1 + 1e-12),
                                        "B=\(batch) T=\(frames) P=\(p) perStep=\(perStep): chosen \(plan.chosen.seconds) > \(candidate.kind) \(candidate.seconds)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func theMachineModelIsMeasuredOnRequest() {
        let engine = FusionEngine(model: Self.engine.model, threads: 2)
        #expect(engine.machine.origin.contains("assumed"))
        let before = engine.plan(for: FusionWorkload(imageLengths: [100, 3], frames: 100, tokensPerFrame: 1, perStep: false),
                                 choice: .automatic)
        engine.measureMachine()
        let m = engine.machine
        #expect(m.origin.contains("measured") && m.threads == 2)
        // A GEMM kernel between 1 and 10,000 GFLOP/s a thread, memory between 0.1 and 10,000 GB/s.
        #expect(m.gemmFlopsPerThread > 1e9 && m.gemmFlopsPerThread < 1e13, "\(m.gemmFlopsPerThread)")
        #expect(m.bandwidth > 1e8 && m.bandwidth < 1e13, "\(m.bandwidth)")
        let after = engine.plan(for: before.workload, choice: .automatic)
        // The rates change predicted times only, never the plan.
        #expect(after.sampleKinds == before.sampleKinds && after.chosen.flops == before.chosen.flops)
        #expect(after.explanation.contains("rates measured now"))
    }

    private func costModel(for engine: FusionEngine) -> CostModel {
        CostModel(config: engine.model.config, machine: .current(threads: engine.threads))
    }
}
