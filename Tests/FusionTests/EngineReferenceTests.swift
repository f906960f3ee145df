import Testing
import NpyIO
@testable import Fusion

/// The engine against the reference path on random configurations: odd sizes, 1…8 heads (and 17,
/// beyond one attention kernel call), pre- and post-norm, every activation, with and without
/// biases and final norm, P > 1, ragged lengths, plain and per-step, many chunks.
@Suite struct EngineReferenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let heads: Int
        let headDim: Int
        let normFirst: Bool
        let activation: Activation
        let finalNorm: Bool
        let attnBias: Bool
        let tokensPerFrame: Int?
        let perStep: Bool
        var testDescription: String {
            "H=\(heads) dh=\(headDim) \(normFirst ? "pre" : "post") \(activation.rawValue)\(finalNorm ? " final" : "")"
                + "\(attnBias ? "" : " no-bias") P=\(tokensPerFrame.map(String.init) ?? "-") \(perStep ? "per-step" : "plain")"
        }
    }

    static let cases: [Case] = [
        Case(heads: 1, headDim: 13, normFirst: false, activation: .gelu, finalNorm: false, attnBias: true, tokensPerFrame: nil, perStep: false),
        Case(heads: 2, headDim: 7, normFirst: true, activation: .geluTanh, finalNorm: true, attnBias: true, tokensPerFrame: 3, perStep: false),
        Case(heads: 3, headDim: 11, normFirst: false, activation: .relu, finalNorm: true, attnBias: false, tokensPerFrame: 2, perStep: true),
        Case(heads: 5, headDim: 6, normFirst: true, activation: .gelu, finalNorm: false, attnBias: false, tokensPerFrame: nil, perStep: true),
        Case(heads: 8, headDim: 9, normFirst: false, activation: .geluTanh, finalNorm: false, attnBias: true, tokensPerFrame: 5, perStep: false),
        Case(heads: 8, headDim: 16, normFirst: true, activation: .relu, finalNorm: true, attnBias: true, tokensPerFrame: 2, perStep: true),
        Case(heads: 17, headDim: 4, normFirst: false, activation: .gelu, finalNorm: true, attnBias: true, tokensPerFrame: 3, perStep: true),
    ]

    @Test(arguments: cases)
    func engineMatchesReference(_ c: Case) throws {
        let config = EngineFixtures.config(
            heads: c.heads, headDim: c.headDim, normFirst: c.normFirst, activation: c.activation,
            finalNorm: c.finalNorm, attnBias: c.attnBias)
        let model = try ModelFactory.model(config, seed: UInt64(c.heads * 31 + c.headDim))
        // T = 50 frames so that (with P) histories span several 64-token attention chunks.
        let batch = EngineFixtures.batch(
            config, batch: 4, tokens: 3, frames: 50, tokensPerFrame: c.tokensPerFrame, textLengths: [3, 1, 2, 3],
            imageLengths: [50, 1, 23, 37], seed: UInt64(c.heads))
        let engine = FusionEngine(model: model, threads: 2)
        let fast = try EngineFixtures.engine(engine, batch, perStep: c.perStep)
        let reference = try EngineFixtures.reference(model, batch, perStep: c.perStep)
        #expect(fast.output.shape == reference.output.shape)
        #expect(fast.attention?.shape == reference.attention?.shape)
        let output = EngineFixtures.maxError(fast.output.values, reference.output.values)
        let attention = EngineFixtures.maxError(fast.attention!.values, reference.attention!.values)
        print("engine vs reference \(c.testDescription): output \(output.error) at \(output.index), attention \(attention.error) at \(attention.index)")
        // Measured 2026-12-06 on 3ef0df3 over the seven cases: output ≤ 1.43e-6 (H=17 per-step), attention
        // ≤ 1.5e-7; budgets about 4× (plain cases run the automatic plan, per-step cases per-step mode).
        #expect(output.error <= 6e-6, "output max abs error \(output.error) at \(output.index)")
        #expect(attention.error <= 6e-7, "attention max abs error \(attention.error) at \(attention.index)")
        // Masked tokens and rows past a sample's length stay exactly zero, as in the reference.
        let zeroInReference = reference.attention!.values.indices.filter { reference.attention!.values[$0] == 0 }
        #expect(zeroInReference.allSatisfy { fast.attention!.values[$0] == 0 })
        let zeroRows = reference.output.values.indices.filter { reference.output.values[$0] == 0 }
        #expect(zeroRows.allSatisfy { fast.output.values[$0] == 0 })
    }

    @Test func tinyBudgetsGiveTheSameBitsAsOneChunk() throws {
        // Many sample chunks, one-query attention groups: only memory use may change.
        let config = EngineFixtures.config(heads: 3, headDim: 10, normFirst: true, finalNorm: true)
        let model = try ModelFactory.model(config)
        let batch = EngineFixtures.batch(
            config, batch: 5, frames: 40, tokensPerFrame: 3, imageLengths: [40, 7, 1, 33, 22], seed: 5)
        for perStep in [false, true] {
            let wide = try EngineFixtures.engine(FusionEngine(model: model, threads: 2), batch, perStep: perStep)
            let narrow = FusionEngine(model: model, threads: 2)
            narrow.budgets = EngineBudgets(tokenFloats: 1, queries: 1, partialFloats: 1)
            let chunked = try narrow.fuse(batch.inputs(model), options: FusionOptions(perStep: perStep, attention: true))
            #expect(chunked.timings.chunks == 5)
            #expect(EngineFixtures.sameBits(wide.output.values, chunked.result.output.values),
                    "\(EngineFixtures.firstDifference(wide.output.values, chunked.result.output.values))")
            #expect(EngineFixtures.sameBits(wide.attention!.values, chunked.result.attention!.values))
        }
    }

    @Test func float64SourcesHoldingFloat32ValuesGiveTheSameBits() throws {
        // A float64 NumPy array goes through the conversion path of withElements; its values are exact floats.
        let config = EngineFixtures.config(heads: 2, headDim: 8)
        let model = try ModelFactory.model(config)
        let batch = EngineFixtures.batch(config, batch: 2, frames: 9, imageLengths: [9, 4], seed: 9)
        let asFloat64 = try FusionInputs(
            text: NpyArray(float64: batch.text.values.map(Double.init), shape: batch.text.shape),
            images: NpyArray(float64: batch.images.values.map(Double.init), shape: batch.images.shape),
            textLengths: nil, textMask: nil, imageLengths: batch.imageLengths, model: model)
        let engine = FusionEngine(model: model, threads: 2)
        let fromFloat64 = try engine.fuse(asFloat64, options: FusionOptions(attention: true)).result
        let fromTensor = try EngineFixtures.engine(engine, batch)
        #expect(EngineFixtures.sameBits(fromFloat64.output.values, fromTensor.output.values))
    }
}
