import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// The fast engine against PyTorch's golden outputs (the same budgets as the reference path).
@Suite struct EngineGoldenTests {
    @Test(arguments: GoldenFixtures.cases)
    func engineMatchesPyTorch(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        let engine = FusionEngine(model: model, threads: 2)
        let run = try engine.fuse(
            inputs, options: FusionOptions(perStep: golden.per_step, attention: golden.expected.attention != nil))
        #expect(run.plan.kind == .xFormed)
        try GoldenFixtures.expectMatches(run.result, golden, label: "engine golden")
    }

    @Test func fuseRoutesToTheEngine() throws {
        let golden = try GoldenCase.load("pre_gelu_batch")
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        let options = FusionOptions(attention: true, threads: 2)
        let viaModel = try model.fuse(inputs, options: options)
        let viaEngine = try FusionEngine(model: model, threads: 1).fuse(inputs, options: options).result
        #expect(EngineFixtures.sameBits(viaModel.output.values, viaEngine.output.values))
        #expect(EngineFixtures.sameBits(viaModel.attention!.values, viaEngine.attention!.values))
        var referenceOptions = options
        referenceOptions.plan = .reference
        #expect(try model.fuse(inputs, options: referenceOptions) == model.fuseReference(inputs, options: options))
    }
}
