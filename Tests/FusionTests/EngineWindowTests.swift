import Testing
@testable import Fusion

/// `fuse --per-step --window N` (``FusionEngine/fuseWindowed(_:window:attention:)``) against a
/// streaming session with the same window, bit for bit, row by row, maps included.
@Suite struct EngineWindowTests {
    @Test(arguments: [(1, 1), (1, 3), (2, 2), (1, 9), (3, 4)])
    func everyRowEqualsTheSessionsStep(tokensPerFrame p: Int, window: Int) throws {
        let model = try ModelFactory.model(ModelFactory.smallConfig(normFirst: true, finalNorm: true))
        let engine = FusionEngine(model: model)
        let (batch, frames, img, d) = (3, 7, 50, model.config.projDim)
        let text = ModelFactory.normal([batch, 4, 20], seed: 11)
        let images = ModelFactory.normal([batch, frames, p, img], seed: 12)
        let lengths = [7, 4, 1]
        let inputs = try FusionInputs(text: text, images: images, textLengths: [4, 2, 3], textMask: nil,
                                      imageLengths: lengths, model: model)
        var options = FusionOptions(perStep: true, attention: true)
        options.window = window
        let run = try engine.fuse(inputs, options: options)
        #expect(run.plan.sampleKinds == [.xFormed, .xFormed, .xFormed])
        let result = run.result
        #expect(result.output.shape == [batch, frames, d])
        let tokens = frames * p
        let perStepMaps = model.config.nBlocks * model.config.nHeads * tokens
        for b in 0..<batch {
            let instruction = Tensor(shape: [4, 20], values: Array(text.values[(b * 80)..<(b * 80 + 80)]))
            // A session pools the instruction's last token: give it the sample's real tokens.
            let length = [4, 2, 3][b]
            let cut = try FusionSession(engine: engine, text: Tensor(shape: [length, 20], values: Array(instruction.values[0..<(length * 20)])),
                                        textMask: nil, maxFrames: window)
            for t in 0..<frames {
                let row = Array(result.output.values[((b * frames + t) * d)..<((b * frames + t + 1) * d)])
                guard t < lengths[b] else {
                    #expect(row.allSatisfy { $0 == 0 }, "sample \(b) step \(t) is padding")
                    continue
                }
                let start = ((b * frames + t) * p) * img
                let frame = Tensor(shape: [p, img], values: Array(images.values[start..<(start + p * img)]))
                let step = try cut.append(frame: frame, attention: true)
                #expect(row == step.output, "sample \(b) step \(t)")
                // The step's maps (N, H, kept·P) sit at the window's first token; zeros elsewhere.
                let first = max(0, t - window + 1)
                let kept = (t - first + 1) * p
                let maps = Array(result.attention!.values[((b * frames + t) * perStepMaps)..<((b * frames + t + 1) * perStepMaps)])
                for r in 0..<(model.config.nBlocks * model.config.nHeads) {
                    let rowMaps = Array(maps[(r * tokens)..<((r + 1) * tokens)])
                    #expect(Array(rowMaps[(first * p)..<(first * p + kept)]) == Array(step.attention!.values[(r * kept)..<((r + 1) * kept)]))
                    #expect(rowMaps[..<(first * p)].allSatisfy { $0 == 0 } && rowMaps[(first * p + kept)...].allSatisfy { $0 == 0 })
                }
            }
        }
    }

    @Test func aWindowAsLongAsTheHistoryIsPlainPerStepModePlanA() throws {
        let model = try ModelFactory.model()
        let engine = FusionEngine(model: model)
        let inputs = try FusionInputs(text: ModelFactory.normal([2, 3, 20], seed: 3), images: ModelFactory.normal([2, 6, 50], seed: 4),
                                      textLengths: nil, textMask: nil, imageLengths: [6, 3], model: model)
        var windowed = FusionOptions(perStep: true)
        windowed.window = 6
        let whole = try engine.fuse(inputs, options: FusionOptions(perStep: true, plan: .xFormed)).result.output
        #expect(try engine.fuse(inputs, options: windowed).result.output == whole)
        windowed.window = 2
        #expect(try engine.fuse(inputs, options: windowed).result.output != whole)
        #expect(throws: FusionError.invalidInput(input: "window", sample: nil, detail: "must be at least 1 frame, found 0")) {
            try engine.fuseWindowed(inputs, window: 0, attention: false)
        }
    }
}
