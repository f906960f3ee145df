import Testing
@testable import Heatmap

@Suite struct AttentionMapsTests {
    private func error(_ values: [Float], _ shape: [Int], tokensPerFrame: Int = 1, perStep: Bool = false) -> String? {
        do {
            _ = try AttentionMaps(values: values, shape: shape, tokensPerFrame: tokensPerFrame, perStep: perStep)
            return nil
        } catch let error as HeatmapError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    private func zeros(_ count: Int) -> [Float] { [Float](repeating: 0, count: count) }

    @Test func axesOfPlainMaps() throws {
        let maps = try AttentionMaps(values: zeros(2 * 3 * 4 * 10), shape: [2, 3, 4, 10], tokensPerFrame: 2, perStep: false)
        #expect(maps.samples == 2)
        #expect(maps.blocks == 3)
        #expect(maps.heads == 4)
        #expect(maps.tokens == 10)
        #expect(maps.frames == 5)
        #expect(maps.steps == nil)
    }

    @Test func axesOfPerStepMaps() throws {
        let maps = try AttentionMaps(values: zeros(2 * 5 * 3 * 4 * 10), shape: [2, 5, 3, 4, 10], tokensPerFrame: 2,
                                     perStep: true)
        #expect(maps.samples == 2)
        #expect(maps.steps == 5)
        #expect(maps.blocks == 3)
        #expect(maps.heads == 4)
        #expect(maps.frames == 5)
    }

    @Test func frameWeightSumsTheFramesTokens() throws {
        // (1, 1, 2, 6), P = 3: head 1's frame 1 is tokens 3...5 of row 1.
        let values: [Float] = [0, 0, 0, 0, 0, 0, 0.1, 0.1, 0.1, 0.2, 0.25, 0.25]
        let maps = try AttentionMaps(values: values, shape: [1, 1, 2, 6], tokensPerFrame: 3, perStep: false)
        #expect(abs(maps.frameWeight(sample: 0, step: 0, block: 0, head: 1, frame: 1) - 0.7) < 1e-7)
        #expect(abs(maps.frameWeight(sample: 0, step: 0, block: 0, head: 1, frame: 0) - 0.3) < 1e-7)
    }

    @Test func wrongAxisCountIsNamed() {
        #expect(error(zeros(36), [1, 2, 2, 3, 3]) ==
            "plain attention maps must have shape (B, N, H, T·P); found 5 axes (1, 2, 2, 3, 3)")
        #expect(error(zeros(12), [1, 2, 2, 3], perStep: true) ==
            "per-step attention maps must have shape (B, T, N, H, T·P); found 4 axes (1, 2, 2, 3)")
        #expect(error(zeros(3), [3]) ==
            "plain attention maps must have shape (B, N, H, T·P); found 1 axes (3,)")
    }

    @Test func emptyAxisIsNamed() {
        #expect(error([], [1, 0, 2, 4]) ==
            "attention maps shape (1, 0, 2, 4) has an empty axis N; every axis needs at least 1 entry")
        #expect(error([], [1, 2, 2, 2, 0], perStep: true) ==
            "attention maps shape (1, 2, 2, 2, 0) has an empty axis T·P; every axis needs at least 1 entry")
    }

    @Test func valueCountMustMatch() {
        #expect(error(zeros(15), [1, 2, 2, 4]) == "attention maps shape (1, 2, 2, 4) needs 16 values; found 15")
    }

    @Test func overflowingShapeIsRejected() {
        #expect(error([], [Int.max / 2, 4, 1, 1]) ==
            "attention maps shape (\(Int.max / 2), 4, 1, 1) has more entries than this machine can address")
    }

    @Test func tokensPerFrameMustDivideTokens() {
        #expect(error(zeros(4), [1, 1, 1, 4], tokensPerFrame: 0) == "tokens per frame must be at least 1; found 0")
        #expect(error(zeros(10), [1, 1, 1, 10], tokensPerFrame: 4) ==
            "the token axis has 10 tokens, which is not a multiple of 4 tokens per frame")
    }

    @Test func perStepStepsMustEqualFrames() {
        #expect(error(zeros(24), [1, 3, 1, 1, 8], tokensPerFrame: 2, perStep: true) ==
            "per-step attention maps have 3 steps but 4 frames (8 tokens / 2 per frame); "
            + "the step axis and the frame count must agree")
    }

    @Test func badWeightsAreLocated() {
        var values = zeros(12)
        values[11] = .nan
        #expect(error(values, [2, 1, 2, 3]) ==
            "attention weight at (1, 0, 1, 2) (sample 1, block 0, head 1, token 2) is nan; "
            + "weights must be finite and not negative")
        values[11] = 0
        values[4] = -0.5
        #expect(error(values, [2, 1, 2, 3]) ==
            "attention weight at (0, 0, 1, 1) (sample 0, block 0, head 1, token 1) is -0.5; "
            + "weights must be finite and not negative")
        var steps = zeros(8)
        steps[5] = .infinity
        #expect(error(steps, [1, 2, 1, 2, 2], perStep: true) ==
            "attention weight at (0, 1, 0, 0, 1) (sample 0, step 1, block 0, head 0, token 1) is inf; "
            + "weights must be finite and not negative")
    }

    @Test func negativeZeroIsAWeightOfZero() throws {
        #expect(error([-0.0, 1], [1, 1, 1, 2]) == nil)  // accepted, unlike -0.5 (badWeightsAreLocated)
        let maps = try AttentionMaps(values: [-0.0, 1], shape: [1, 1, 1, 2], tokensPerFrame: 1, perStep: false)
        #expect(maps.frameWeight(sample: 0, step: 0, block: 0, head: 0, frame: 0) == 0)
        #expect(maps.frameWeight(sample: 0, step: 0, block: 0, head: 0, frame: 1) == 1)
    }

    @Test func layoutIsReadFromTheAxisCount() throws {
        let plain = try AttentionMaps(values: zeros(2 * 8), shape: [1, 1, 2, 8])
        #expect(!plain.perStep && plain.tokensPerFrame == 1 && plain.frames == 8)
        let plainP = try AttentionMaps(values: zeros(2 * 8), shape: [1, 1, 2, 8], tokensPerFrame: 4)
        #expect(!plainP.perStep && plainP.frames == 2)
        let steps = try AttentionMaps(values: zeros(4 * 12), shape: [1, 4, 1, 1, 12])
        #expect(steps.perStep && steps.tokensPerFrame == 3 && steps.frames == 4 && steps.steps == 4)
    }

    @Test func inferredLayoutErrors() {
        func inferred(_ values: [Float], _ shape: [Int]) -> String? {
            do {
                _ = try AttentionMaps(values: values, shape: shape)
                return nil
            } catch {
                return (error as? HeatmapError)?.description ?? "unexpected \(error)"
            }
        }
        #expect(inferred(zeros(6), [2, 3]) ==
            "attention maps must have 4 axes (B, N, H, T·P) or 5 axes (B, T, N, H, T·P); found 2 axes (2, 3)")
        #expect(inferred(zeros(24), [1, 3, 1, 1, 8]) ==
            "per-step attention maps have 3 steps, which do not divide the 8 tokens of the last axis; "
            + "give the tokens per frame")
        #expect(inferred([], [1, 0, 1, 1, 8]) ==
            "attention maps shape (1, 0, 1, 1, 8) has an empty axis T; every axis needs at least 1 entry")
    }
}
