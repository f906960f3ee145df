import Testing
@testable import Fusion

/// A batch of sessions against one session per agent, bit for bit.
@Suite struct FusionSessionBatchTests {
    /// Agent e's frame at step t out of `frames` (steps, E, P, img), as (P, img) or (img) when P = 1.
    private func frame(_ frames: Tensor, step t: Int, agent e: Int) -> Tensor {
        let (agents, p, img) = (frames.shape[1], frames.shape[2], frames.shape[3])
        let start = ((t * agents) + e) * p * img
        let values = Array(frames.values[start..<(start + p * img)])
        return Tensor(shape: p == 1 ? [img] : [p, img], values: values)
    }

    /// All agents' frames at step t: (E, img) or (E, P, img).
    private func step(_ frames: Tensor, _ t: Int) -> Tensor {
        let (agents, p, img) = (frames.shape[1], frames.shape[2], frames.shape[3])
        let size = agents * p * img
        return Tensor(shape: p == 1 ? [agents, img] : [agents, p, img],
                      values: Array(frames.values[(t * size)..<((t + 1) * size)]))
    }

    /// E agents with instructions of different lengths; 1, 5 and 17 agents cover the one-row and
    /// the blocked GEMM paths (16 rows and more), 30 steps of 3 tokens several attention chunks.
    @Test(arguments: [(1, 1, nil as Int?), (5, 1, nil), (17, 1, nil), (17, 3, nil), (5, 2, 4), (17, 1, 7)])
    func everyAgentEqualsItsOwnSession(agents: Int, tokensPerFrame: Int, window: Int?) throws {
        let model = try ModelFactory.model(ModelFactory.smallConfig(normFirst: true, finalNorm: true))
        let engine = FusionEngine(model: model, threads: 2)
        let steps = tokensPerFrame == 3 ? 30 : 12
        let frames = ModelFactory.normal([steps, agents, tokensPerFrame, 50], seed: 2)
        let texts = (0..<agents).map { ModelFactory.normal([1 + $0 % 4, 20], seed: 100 + UInt64($0)) }
        let batch = try FusionSessionBatch(engine: engine, agents: agents, maxFrames: window)
        let singles = try texts.map { try FusionSession(engine: engine, text: $0, maxFrames: window) }
        for (e, text) in texts.enumerated() {
            try batch.reset(agent: e, text: text)
        }
        for t in 0..<steps {
            let together = try batch.step(frames: step(frames, t))
            for e in 0..<agents {
                let alone = try singles[e].append(frame: frame(frames, step: t, agent: e)).output
                #expect(Array(together[(e * 36)..<((e + 1) * 36)]) == alone, "agent \(e), step \(t)")
            }
        }
    }

    @Test func resettingOneAgentLeavesTheOthersAndCanChangeItsInstruction() throws {
        let model = try ModelFactory.model()
        let engine = FusionEngine(model: model, threads: 1)
        let texts = ModelFactory.normal([3, 4, 20], seed: 3)
        let newText = ModelFactory.normal([2, 20], seed: 9)
        let mask = Tensor(shape: [2], values: [1, 0])
        let frames = ModelFactory.normal([6, 3, 1, 50], seed: 4)
        let batch = try FusionSessionBatch(engine: engine, texts: texts)
        let singles = try (0..<3).map { e in
            try FusionSession(engine: engine, text: Tensor(shape: [4, 20], values: Array(texts.values[(e * 80)..<((e + 1) * 80)])))
        }
        for t in 0..<6 {
            if t == 3 {
                try batch.reset(agent: 1, text: newText, textMask: mask)
                singles[1].reset()
            }
            let together = try batch.step(frames: step(frames, t))
            for e in 0..<3 {
                let expected: [Float]
                if e == 1 && t >= 3 {
                    // Agent 1's new episode: a fresh session on the new instruction, its frames from step 3 on.
                    let fresh = try FusionSession(engine: engine, text: newText, textMask: mask)
                    var last: [Float] = []
                    for s in 3...t { last = try fresh.append(frame: frame(frames, step: s, agent: 1)).output }
                    expected = last
                } else {
                    expected = try singles[e].append(frame: frame(frames, step: t, agent: e)).output
                }
                #expect(Array(together[(e * 36)..<((e + 1) * 36)]) == expected, "agent \(e), step \(t)")
            }
        }
        #expect(batch.steps(agent: 1) == 3 && batch.steps(agent: 0) == 6)
    }

    @Test func badStepsAreRefusedAndChangeNoAgent() throws {
        let model = try ModelFactory.model()
        let engine = FusionEngine(model: model, threads: 1)
        let batch = try FusionSessionBatch(engine: engine, agents: 2)
        try batch.reset(agent: 0, text: ModelFactory.normal([20], seed: 1))
        #expect(throws: FusionError.invalidInput(input: "frames", sample: 1, detail: "this agent has no instruction yet (reset it with a text)")) {
            try batch.step(frames: ModelFactory.normal([2, 50], seed: 2))
        }
        try batch.reset(agent: 1, text: ModelFactory.normal([20], seed: 3))
        let first = try batch.step(frames: ModelFactory.normal([2, 50], seed: 2))
        #expect(throws: FusionError.invalidInput(input: "frames", sample: nil, detail: "expected shape (2, 50) or (2, P, 50) (one frame per agent), found (3, 50)")) {
            try batch.step(frames: ModelFactory.normal([3, 50], seed: 2))
        }
        #expect(throws: FusionError.invalidInput(input: "frames", sample: 0, detail: "step 1: has 2 tokens, but this agent's episode's frames have 1")) {
            try batch.step(frames: ModelFactory.normal([2, 2, 50], seed: 2))
        }
        var nan = ModelFactory.normal([2, 50], seed: 5)
        nan.values[50 + 7] = .nan
        #expect(throws: FusionError.invalidInput(input: "frames", sample: 1, detail: "step 1: non-finite value nan at [7]")) {
            try batch.step(frames: nan)
        }
        #expect(throws: FusionError.invalidInput(input: "agent", sample: nil, detail: "2 outside 0…1")) {
            try batch.reset(agent: 2)
        }
        #expect(batch.steps(agent: 0) == 1 && batch.steps(agent: 1) == 1)
        // The refused steps left every history as it was: a fresh pair given the same two steps agrees.
        let second = try batch.step(frames: ModelFactory.normal([2, 50], seed: 6))
        let again = try FusionSessionBatch(engine: engine, agents: 2)
        try again.reset(agent: 0, text: ModelFactory.normal([20], seed: 1))
        try again.reset(agent: 1, text: ModelFactory.normal([20], seed: 3))
        #expect(try again.step(frames: ModelFactory.normal([2, 50], seed: 2)) == first)
        #expect(try again.step(frames: ModelFactory.normal([2, 50], seed: 6)) == second)
    }
}
