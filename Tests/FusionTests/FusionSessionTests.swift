import Testing
@testable import Fusion

/// The streaming session against plain fusion of the same frames, bit for bit.
@Suite struct FusionSessionTests {
    /// Plain fusion of `frames` (F, P, img) from `first` to `last` inclusive, one sample.
    private func plain(_ model: FusionModel, text: Tensor, frames: Tensor, first: Int, last: Int) throws -> [Float] {
        let frameSize = frames.shape[1] * frames.shape[2]
        let images = Tensor(shape: [1, last - first + 1, frames.shape[1], frames.shape[2]],
                            values: Array(frames.values[(first * frameSize)..<((last + 1) * frameSize)]))
        let inputs = try FusionInputs(text: Tensor(shape: [1] + text.shape, values: text.values), images: images,
                                      textLengths: nil, textMask: nil, imageLengths: nil, model: model)
        // Plan A for every sample: the plan a session runs, so the bits must match.
        return try model.fuse(inputs, options: FusionOptions(plan: .xFormed)).output.values
    }

    private func frame(_ frames: Tensor, _ t: Int, flat: Bool) -> Tensor {
        let size = frames.shape[1] * frames.shape[2]
        let values = Array(frames.values[(t * size)..<((t + 1) * size)])
        return Tensor(shape: flat ? [frames.shape[2]] : [frames.shape[1], frames.shape[2]], values: values)
    }

    @Test(arguments: [(1, nil as Int?), (1, 3), (2, nil), (3, 2)])
    func everyStepEqualsPlainFusion(tokensPerFrame: Int, window: Int?) throws {
        let model = try ModelFactory.model(ModelFactory.smallConfig(normFirst: true, finalNorm: true))
        let text = ModelFactory.normal([4, 20], seed: 1)
        let frames = ModelFactory.normal([7, tokensPerFrame, 50], seed: 2)
        let session = try FusionSession(model: model, text: text, maxFrames: window)
        for t in 0..<7 {
            let step = try session.append(frame: frame(frames, t, flat: tokensPerFrame == 1))
            let first = window.map { max(0, t - $0 + 1) } ?? 0
            #expect(step.output == (try plain(model, text: text, frames: frames, first: first, last: t)), "step \(t)")
        }
    }

    @Test func frameWindowKeepsTheLastFramesInOrderAcrossCompactions() {
        var window = FrameWindow()
        for t in 0..<25 {
            window.append([Float(t), Float(t) + 0.5], limit: 4)
            let kept = window.withKeptValues { Array($0) }
            let first = max(0, t - 3)
            #expect(window.count == t - first + 1, "step \(t)")
            #expect(kept == (first...t).flatMap { [Float($0), Float($0) + 0.5] }, "step \(t)")
        }
    }

    @Test func resetStartsANewEpisode() throws {
        let model = try ModelFactory.model()
        let text = ModelFactory.normal([3, 20], seed: 4)
        let frames = ModelFactory.normal([3, 1, 50], seed: 5)
        let session = try FusionSession(model: model, text: text)
        let first = try session.append(frame: frame(frames, 0, flat: true)).output
        _ = try session.append(frame: frame(frames, 1, flat: true))
        session.reset()
        #expect(session.step == 0)
        #expect(try session.append(frame: frame(frames, 0, flat: true)).output == first)
    }

    @Test func badFramesAreRefusedNamingTheStep() throws {
        let model = try ModelFactory.model()
        let session = try FusionSession(model: model, text: ModelFactory.normal([20], seed: 6))
        _ = try session.append(frame: ModelFactory.normal([2, 50], seed: 7))
        #expect(throws: FusionError.invalidInput(input: "frame", sample: nil, detail: "step 1: has 3 tokens, but this episode's frames have 2")) {
            try session.append(frame: ModelFactory.normal([3, 50], seed: 8))
        }
        #expect(throws: FusionError.invalidInput(input: "frame", sample: nil, detail: "step 1: expected shape (50,) or (P, 50), found (49,)")) {
            try session.append(frame: ModelFactory.normal([49], seed: 8))
        }
        #expect(throws: FusionError.invalidInput(input: "window", sample: nil, detail: "must be at least 1 frame, found 0")) {
            try FusionSession(model: model, text: ModelFactory.normal([20], seed: 6), maxFrames: 0)
        }
    }
}
