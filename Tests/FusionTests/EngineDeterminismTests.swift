import Testing
@testable import Fusion

/// The engine's determinism contract: a sample's output is bit-identical across thread counts, batch
/// compositions, padding and runs under the automatic plan (which here gives the short samples plan A
/// and the long ones plan B′: a mixed batch; per-step rows run plan C); per-step row t equals plain
/// mode on frames 0…t bit for bit under one plan (`--plan x-formed`, `--plan kv-formed`) and within
/// 1e-5 under the automatic plan.
@Suite struct EngineDeterminismTests {
    static let config = EngineFixtures.config(heads: 4, headDim: 12, img: 53, normFirst: false, finalNorm: true)

    static func model() throws -> FusionModel { try ModelFactory.model(config, seed: 3) }

    /// B = 7 ragged samples, P = 2, T = 70 (up to 140 tokens: three attention chunks).
    static func batch() -> EngineFixtures.Batch {
        EngineFixtures.batch(
            config, batch: 7, frames: 70, tokensPerFrame: 2, textLengths: [4, 1, 2, 3, 4, 4, 2],
            imageLengths: [70, 1, 33, 64, 65, 2, 50], seed: 11)
    }

    @Test func sameBitsForOneTwoAndThreeThreads() throws {
        let model = try Self.model()
        let batch = Self.batch()
        for perStep in [false, true] {
            let results = try [1, 2, 3].map { try EngineFixtures.engine(FusionEngine(model: model, threads: $0), batch, perStep: perStep) }
            for result in results.dropFirst() {
                #expect(EngineFixtures.sameBits(results[0].output.values, result.output.values),
                        "output: \(EngineFixtures.firstDifference(results[0].output.values, result.output.values))")
                #expect(EngineFixtures.sameBits(results[0].attention!.values, result.attention!.values))
            }
        }
    }

    @Test func readingWeightsInPlaceAndPackedGiveTheSameBits() throws {
        // A fresh engine runs a one-sample call of 2 tokens on weights read in place (nn.Linear
        // weights through fk_gemm_unpacked, the scaled key heads through fk_gemm_io); nothing is
        // packed. The second call packs everything plan A uses. Same bits both times.
        let model = try Self.model()
        let engine = FusionEngine(model: model, threads: 2)
        let one = Self.batch().sample(1)
        let first = try EngineFixtures.engine(engine, one)
        let packedAfterFirst = engine.weights.packedCount
        let second = try EngineFixtures.engine(engine, one)
        #expect(packedAfterFirst == 0)
        // Everything plan A uses is packed now (not plan B′'s transposed vision projector, nor plan
        // C's Wk of each block).
        #expect(engine.weights.packedCount == engine.weights.matrices.count - 1 - Self.config.nBlocks)
        #expect(EngineFixtures.sameBits(first.output.values, second.output.values),
                "\(EngineFixtures.firstDifference(first.output.values, second.output.values))")
        #expect(EngineFixtures.sameBits(first.attention!.values, second.attention!.values))
    }

    @Test func sameBitsBetweenRuns() throws {
        let engine = FusionEngine(model: try Self.model(), threads: 2)
        let first = try EngineFixtures.engine(engine, Self.batch())
        let second = try EngineFixtures.engine(engine, Self.batch())
        #expect(EngineFixtures.sameBits(first.output.values, second.output.values))
        #expect(EngineFixtures.sameBits(first.attention!.values, second.attention!.values))
    }

    @Test func aSampleAloneMatchesItsRowAtTheStartMiddleAndEndOfABatch() throws {
        let model = try Self.model()
        let engine = FusionEngine(model: model, threads: 2)
        let batch = Self.batch()
        let whole = try EngineFixtures.engine(engine, batch, attention: false)
        let d = Self.config.projDim
        for b in [0, 3, 6] {
            let alone = try EngineFixtures.engine(engine, batch.sample(b), attention: false)
            let row = Array(whole.output.values[(b * d)..<((b + 1) * d)])
            #expect(EngineFixtures.sameBits(alone.output.values, row),
                    "sample \(b): \(EngineFixtures.firstDifference(alone.output.values, row))")
        }
    }

    @Test func paddingFramesChangeNothing() throws {
        // Sample 2 (33 valid frames) with its padding cut to 33 frames, and with 70 frames of padding
        // filled with huge values: the same bits.
        let model = try Self.model()
        let engine = FusionEngine(model: model, threads: 2)
        var padded = Self.batch().sample(2)
        let tight = Self.batch().sample(2, frames: 33)
        let perFrame = 2 * Self.config.imgLatentDim
        for i in (33 * perFrame)..<padded.images.count {
            padded.images.values[i] = 1e30
        }
        let a = try EngineFixtures.engine(engine, padded)
        let b = try EngineFixtures.engine(engine, tight)
        #expect(EngineFixtures.sameBits(a.output.values, b.output.values))
        // The maps differ only by the zero tail of the longer token axis.
        let heads = Self.config.nHeads * Self.config.nBlocks
        for row in 0..<heads {
            let long = Array(a.attention!.values[(row * 140)..<(row * 140 + 66)])
            let short = Array(b.attention!.values[(row * 66)..<((row + 1) * 66)])
            #expect(EngineFixtures.sameBits(long, short))
            #expect(a.attention!.values[(row * 140 + 66)..<((row + 1) * 140)].allSatisfy { $0 == 0 })
        }
    }

    @Test func theBatchMixesBothPlansUnderTheAutomaticChoice() throws {
        let engine = FusionEngine(model: try Self.model(), threads: 2)
        let plan = engine.plan(for: try Self.batch().inputs(engine.model), options: FusionOptions())
        #expect(plan.sampleCount(.xFormed) >= 2 && plan.sampleCount(.projectorAbsorbed) >= 2, "\(plan.sampleKinds)")
    }

    @Test func perStepRowTEqualsPlainModeOnFramesZeroToT() throws {
        let model = try Self.model()
        let engine = FusionEngine(model: model, threads: 2)
        let batch = Self.batch()
        let steps = try EngineFixtures.engine(engine, batch, perStep: true, attention: false)
        let d = Self.config.projDim
        let frames = 70
        let stepsA = try EngineFixtures.engine(engine, batch, perStep: true, attention: false, plan: .xFormed)
        // Per-step rows run plan C for the long histories checked below and plan A for the shortest.
        let stepKinds = engine.plan(for: try batch.inputs(model), options: FusionOptions(perStep: true)).sampleKinds
        #expect([0, 2, 4].allSatisfy { stepKinds[$0] == .kvFormed } && stepKinds.contains(.xFormed), "\(stepKinds)")
        var worstAutomatic: Float = 0
        for b in [0, 2, 4] {
            let length = batch.imageLengths![b]
            for t in Set([0, 1, 31, 32, 63, length - 1]) where t < length {
                let rows = ((b * frames + t) * d)..<((b * frames + t + 1) * d)
                // Plan A in both modes, and plan C in both modes: the same bits.
                let plainA = try EngineFixtures.engine(engine, batch.sample(b, frames: t + 1), attention: false, plan: .xFormed)
                let rowA = Array(stepsA.output.values[rows])
                #expect(EngineFixtures.sameBits(plainA.output.values, rowA),
                        "plan A, sample \(b) step \(t): \(EngineFixtures.firstDifference(plainA.output.values, rowA))")
                let plainC = try EngineFixtures.engine(engine, batch.sample(b, frames: t + 1), attention: false, plan: .kvFormed)
                let rowC = Array(steps.output.values[rows])
                #expect(EngineFixtures.sameBits(plainC.output.values, rowC),
                        "plan C, sample \(b) step \(t): \(EngineFixtures.firstDifference(plainC.output.values, rowC))")
                let automatic = try EngineFixtures.engine(engine, batch.sample(b, frames: t + 1), attention: false)
                worstAutomatic = max(worstAutomatic, EngineFixtures.maxError(automatic.output.values, rowC).error)
            }
            // Rows past the sample's length are exactly zero.
            #expect(steps.output.values[((b * frames + length) * d)..<((b + 1) * frames * d)].allSatisfy { $0 == 0 })
        }
        // Automatic plain (plans A and B′) against automatic per-step rows (plan C): other rounding,
        // the same function (the contract's 1e-5 agreement).
        #expect(worstAutomatic > 0 && worstAutomatic <= 1e-5, "automatic plain vs per-step rows: \(worstAutomatic)")
    }
}
