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
        let inputs = try FusionInputs(
            text: try GoldenFixtures.array(golden, golden.inputs.text)!,
            images: try GoldenFixtures.array(golden, golden.inputs.images)!,
            textLengths: try GoldenFixtures.array(golden, golden.inputs.text_lengths)?.intElements(),
            textMask: try GoldenFixtures.array(golden, golden.inputs.text_mask),
            imageLengths: try GoldenFixtures.array(golden, golden.inputs.image_lengths)?.intElements(),
            model: model)
        let engine = FusionEngine(model: model, threads: 2)
        let run = try engine.fuse(
            inputs, options: FusionOptions(perStep: golden.per_step, attention: golden.expected.attention != nil))
        #expect(run.plan.kind == .xFormed)
        let result = run.result

        let expectedOutput = try GoldenFixtures.array(golden, golden.expected.output)!
        #expect(result.output.shape == expectedOutput.shape)
        let outputError = maxAbsError(result.output.values, try expectedOutput.float64Elements())
        var line = "engine golden \(caseName): output max abs error \(outputError.error) at \(outputError.index)"
        #expect(outputError.error <= 1e-4, "\(caseName): output max abs error \(outputError.error) at flat index \(outputError.index)")
        if let expectedAttention = try GoldenFixtures.array(golden, golden.expected.attention) {
            let attention = try #require(result.attention)
            #expect(attention.shape == expectedAttention.shape)
            let attentionError = maxAbsError(attention.values, try expectedAttention.float64Elements())
            line += ", attention max abs error \(attentionError.error) at \(attentionError.index)"
            #expect(attentionError.error <= 1e-5, "\(caseName): attention max abs error \(attentionError.error) at flat index \(attentionError.index)")
        }
        print(line)
    }

    @Test func fuseRoutesToTheEngine() throws {
        let golden = try GoldenCase.load("pre_gelu_batch")
        let model = try GoldenFixtures.model(golden)
        let inputs = try FusionInputs(
            text: try GoldenFixtures.array(golden, golden.inputs.text)!,
            images: try GoldenFixtures.array(golden, golden.inputs.images)!,
            textLengths: try GoldenFixtures.array(golden, golden.inputs.text_lengths)?.intElements(),
            textMask: try GoldenFixtures.array(golden, golden.inputs.text_mask),
            imageLengths: try GoldenFixtures.array(golden, golden.inputs.image_lengths)?.intElements(),
            model: model)
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
