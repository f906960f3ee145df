import Testing
@testable import Fusion

/// The engine's session entry points (project each frame's tokens once, fuse a query over a prefix of
/// the X rows) give the bits of plain `fuse` on the same prefix, weights included.
@Suite struct EngineProjectedTests {
    @Test func projectedHalvesMatchPlainFuseOnEveryPrefix() throws {
        let config = EngineFixtures.config(heads: 3, headDim: 10, img: 41, normFirst: true, finalNorm: true)
        let model = try ModelFactory.model(config, seed: 13)
        let engine = FusionEngine(model: model, threads: 2)
        let frames = 70
        let perFrame = 2
        let batch = EngineFixtures.batch(config, batch: 1, tokens: 3, frames: frames, tokensPerFrame: perFrame, seed: 17)
        let d = config.projDim
        let tokens = frames * perFrame
        var x = [Float](repeating: 0, count: tokens * d)
        batch.images.values.withUnsafeBufferPointer { images in
            x.withUnsafeMutableBufferPointer { rows in
                // Frame by frame, as a session appends them.
                for frame in 0..<frames {
                    engine.projectTokens(
                        images.baseAddress! + frame * perFrame * config.imgLatentDim, count: perFrame,
                        into: rows.baseAddress! + frame * perFrame * d)
                }
            }
        }
        let text = Array(batch.text.values[(2 * config.txtLatentDim)..<(3 * config.txtLatentDim)])
        for frame in [0, 1, 31, 32, 33, 63, 69] {
            let valid = (frame + 1) * perFrame
            let (output, weights) = text.withUnsafeBufferPointer { text in
                x.withUnsafeBufferPointer { x in
                    engine.fuseProjected(text: text.baseAddress!, x: x.baseAddress!, tokens: valid, attention: true)
                }
            }
            let plain = try EngineFixtures.engine(engine, batch.sample(0, frames: frame + 1), plan: .xFormed)
            #expect(EngineFixtures.sameBits(output, plain.output.values),
                    "frame \(frame): \(EngineFixtures.firstDifference(output, plain.output.values))")
            #expect(EngineFixtures.sameBits(weights!, plain.attention!.values), "frame \(frame): attention")
        }
    }
}
