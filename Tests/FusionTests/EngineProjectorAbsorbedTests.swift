import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// Plan B′ (projector absorbed, opt-in, plain mode): against PyTorch's golden outputs and the
/// reference, and deterministic across threads, batch positions and padding.
@Suite struct EngineProjectorAbsorbedTests {
    static let options = FusionOptions(attention: true, plan: .projectorAbsorbed)

    @Test(arguments: GoldenFixtures.plainCases)
    func matchesPyTorchInPlainMode(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        try #require(!golden.per_step)
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        let run = try FusionEngine(model: model, threads: 2).fuse(
            inputs, options: FusionOptions(attention: golden.expected.attention != nil, plan: .projectorAbsorbed))
        #expect(run.plan.kind == .projectorAbsorbed)
        try GoldenFixtures.expectMatches(run.result, golden, path: .projectorAbsorbed, label: "plan B' golden")
    }

    @Test(arguments: [(1, 13, false), (3, 11, true), (8, 9, false), (17, 4, true)])
    func matchesReferenceOnRandomConfigs(heads: Int, headDim: Int, normFirst: Bool) throws {
        let config = EngineFixtures.config(heads: heads, headDim: headDim, normFirst: normFirst, finalNorm: normFirst)
        let model = try ModelFactory.model(config, seed: UInt64(heads))
        let batch = EngineFixtures.batch(
            config, batch: 4, frames: 50, tokensPerFrame: 3, imageLengths: [50, 1, 23, 37], seed: UInt64(headDim))
        let run = try FusionEngine(model: model, threads: 2).fuse(batch.inputs(model), options: Self.options)
        let reference = try EngineFixtures.reference(model, batch)
        let output = EngineFixtures.maxError(run.result.output.values, reference.output.values)
        let attention = EngineFixtures.maxError(run.result.attention!.values, reference.attention!.values)
        print("plan B' vs reference H=\(heads) dh=\(headDim): output \(output.error), attention \(attention.error)")
        // Measured 2026-12-06 on 3ef0df3: output ≤ 9.5e-7 (H=3), attention ≤ 1.2e-7 (H=17); about 4×.
        #expect(output.error <= 4e-6)
        #expect(attention.error <= 5e-7)
    }

    @Test func deterministicAcrossThreadsBatchPositionAndPadding() throws {
        let config = EngineDeterminismTests.config
        let model = try EngineDeterminismTests.model()
        let batch = EngineDeterminismTests.batch()
        let whole = try [1, 2, 3].map {
            try FusionEngine(model: model, threads: $0).fuse(batch.inputs(model), options: Self.options).result
        }
        for result in whole.dropFirst() {
            #expect(EngineFixtures.sameBits(whole[0].output.values, result.output.values))
            #expect(EngineFixtures.sameBits(whole[0].attention!.values, result.attention!.values))
        }
        let engine = FusionEngine(model: model, threads: 2)
        let planA = try EngineFixtures.engine(engine, batch)
        #expect(!EngineFixtures.sameBits(planA.output.values, whole[0].output.values),
                "plan B′ rounds differently from plan A (else it did not run)")
        let d = config.projDim
        for b in [0, 2, 6] {
            let alone = try engine.fuse(batch.sample(b).inputs(model), options: Self.options).result
            let tight = try engine.fuse(batch.sample(b, frames: batch.imageLengths![b]).inputs(model), options: Self.options).result
            let row = Array(whole[0].output.values[(b * d)..<((b + 1) * d)])
            #expect(EngineFixtures.sameBits(alone.output.values, row), "sample \(b) alone")
            #expect(EngineFixtures.sameBits(tight.output.values, row), "sample \(b) without padding")
        }
    }
}
