/// E acting agents that step together: each has its own instruction and its own growing history,
/// and one ``step(frames:)`` takes one frame per agent and returns one fused vector per agent.
///
/// A step projects the E new frames in one GEMM and runs the N fusion blocks once for all E queries
/// (``FusionEngine`` reads every weight matrix once per step, not once per agent); each query
/// attends only its own agent's kept X rows. Agent e's vectors are bit-identical to those of a
/// ``FusionSession`` of its own with the same instruction, window and frames (and so to
/// `fusectl fuse --plan x-formed` on its frames so far): GEMM rows are independent and attention
/// chunks are counted from each agent's first kept token.
///
/// Agents are reset one at a time (``reset(agent:text:textMask:)``), optionally with a new
/// instruction; an agent that has none yet cannot step. A step that throws changes no agent.
/// Memory: at most 2 · window · P · d floats of X rows per agent (see `FrameWindow`). Not
/// thread-safe: callers serialise.
public final class FusionSessionBatch {
    public let engine: FusionEngine
    public var model: FusionModel { engine.model }
    /// The most frames each agent keeps; nil keeps the whole episode.
    public let maxFrames: Int?

    private struct Agent {
        /// The pooled text token, txt_latent_dim floats; nil until an instruction is given.
        var pooledText: [Float]?
        var rows = FrameWindow()
        var tokensPerFrame: Int?
        var step = 0
    }

    private var agents: [Agent]
    /// Whether the first step of ≥ `EngineWeights.blockedRows` rows has packed the weights.
    private var packed = false

    /// E agents.
    public var count: Int { agents.count }

    /// Frames agent `agent` has stepped since its episode began.
    public func steps(agent: Int) -> Int { agents[agent].step }

    /// Whether agent `agent` has an instruction.
    public func hasInstruction(agent: Int) -> Bool { agents[agent].pooledText != nil }

    /// - Parameters:
    ///   - engine: the model's engine (shared with other work on the model).
    ///   - agents: E ≥ 1; each needs an instruction (``reset(agent:text:textMask:)``) before it steps.
    ///   - maxFrames: the window, ≥ 1, or nil for no limit.
    /// - Throws: `FusionError.invalidInput` for E < 1 or a window below 1.
    public init(engine: FusionEngine, agents count: Int, maxFrames: Int? = nil) throws {
        if let maxFrames, maxFrames < 1 {
            throw FusionError.invalidInput(input: "window", sample: nil, detail: "must be at least 1 frame, found \(maxFrames)")
        }
        guard count >= 1 else {
            throw FusionError.invalidInput(input: "agents", sample: nil, detail: "needs at least one agent, found \(count)")
        }
        self.engine = engine
        self.maxFrames = maxFrames
        agents = Array(repeating: Agent(), count: count)
    }

    /// E agents with one instruction each: `texts` (E, L, txt_latent_dim) with an optional (E, L)
    /// mask, or (E, txt_latent_dim) already pooled.
    /// - Throws: `FusionError.invalidInput` for shapes that contradict the model, a mask row without
    ///   a real token or a non-finite value (naming the agent as the sample).
    public convenience init(engine: FusionEngine, texts: any FloatSource, textMask: (any FloatSource)? = nil,
                            maxFrames: Int? = nil) throws {
        let shape = texts.shape
        guard shape.count == 2 || shape.count == 3 else {
            let txt = engine.model.config.txtLatentDim
            throw FusionError.invalidInput(
                input: "text", sample: nil,
                detail: "expected shape (E, L, \(txt)) or (E, \(txt)) (one instruction per agent), found \(shapeText(shape))")
        }
        try self.init(engine: engine, agents: shape[0], maxFrames: maxFrames)
        let inputs = try FusionInputs(
            text: texts, images: Tensor(zeros: [shape[0], 1, model.config.imgLatentDim]), textLengths: nil,
            textMask: textMask, imageLengths: nil, model: model)
        try inputs.checkFinite()
        for e in 0..<shape[0] {
            agents[e].pooledText = try texts.elements(in: inputs.pooledTextRange(sample: e))
        }
    }

    /// Starts a new episode for agent `agent`, with a new instruction when `text` is given
    /// ((L, txt_latent_dim) with an optional (L) mask, or (txt_latent_dim) pooled), else the same one.
    /// - Throws: `FusionError.invalidInput` for an agent outside 0..<E, a mask without text, or an
    ///   instruction `FusionSession` would refuse or that holds a non-finite value; the agent is
    ///   then unchanged.
    public func reset(agent: Int, text: (any FloatSource)? = nil, textMask: (any FloatSource)? = nil) throws {
        guard agents.indices.contains(agent) else {
            throw FusionError.invalidInput(input: "agent", sample: nil, detail: "\(agent) outside 0…\(agents.count - 1)")
        }
        var pooled = agents[agent].pooledText
        if let text {
            let token = try FusionSession.pooledInstruction(text: text, textMask: textMask, model: model)
            for (name, source) in [("text", text)] + (textMask.map { [("text_mask", $0)] } ?? []) {
                let values = try source.elements(in: 0..<source.elementTotal)
                if let bad = values.firstIndex(where: { !$0.isFinite }) {
                    throw FusionError.invalidInput(
                        input: name, sample: agent,
                        detail: "non-finite value \(values[bad]) at [\(unravel(bad, shape: source.shape).map(String.init).joined(separator: ", "))]")
                }
            }
            pooled = token
        } else if textMask != nil {
            throw FusionError.invalidInput(input: "text_mask", sample: agent, detail: "a mask needs its instruction (text)")
        }
        agents[agent] = Agent(pooledText: pooled)
    }

    /// Adds one frame per agent and returns each agent's fused vector for its kept history.
    ///
    /// - Parameter frames: (E, img_latent_dim) or (E, P, img_latent_dim); agent e's P must match its
    ///   episode's first frame.
    /// - Returns: E · d floats, agent-major.
    /// - Throws: `FusionError.invalidInput` (before any agent changes) for a wrong shape, an agent
    ///   without an instruction, a P that differs from an agent's episode, or a non-finite value
    ///   (naming the agent as the sample and its step).
    /// - Complexity: one projection GEMM of E·P rows plus one pass of the blocks over E queries,
    ///   each attending its own kept tokens.
    public func step(frames: any FloatSource) throws -> [Float] {
        let config = model.config
        let img = config.imgLatentDim
        let d = config.projDim
        let count = agents.count
        let shape = frames.shape
        let p: Int
        switch shape.count {
        case 2 where shape[0] == count && shape[1] == img: p = 1
        case 3 where shape[0] == count && shape[2] == img && shape[1] >= 1: p = shape[1]
        default:
            throw FusionError.invalidInput(
                input: "frames", sample: nil,
                detail: "expected shape (\(count), \(img)) or (\(count), P, \(img)) (one frame per agent), found \(shapeText(shape))")
        }
        for (e, agent) in agents.enumerated() {
            guard agent.pooledText != nil else {
                throw FusionError.invalidInput(input: "frames", sample: e, detail: "this agent has no instruction yet (reset it with a text)")
            }
            if let tokensPerFrame = agent.tokensPerFrame, tokensPerFrame != p {
                throw FusionError.invalidInput(
                    input: "frames", sample: e,
                    detail: "step \(agent.step): has \(p) tokens, but this agent's episode's frames have \(tokensPerFrame)")
            }
        }
        if !packed && count * p >= EngineWeights.blockedRows {
            // Batched GEMMs would read the weights in place and pack each 256 × 256 block again on
            // every step (the rule for one-shot batches); a batch of sessions steps many times, so
            // it packs every matrix once, as a single session's few-row GEMMs do by their second
            // step. The same bits either way.
            engine.packAll()
            packed = true
        }
        let perAgent = p * img
        var projected = [Float](repeating: 0, count: count * p * d)
        try frames.withElements(in: 0..<(count * perAgent)) { tokens in
            if let bad = tokens.firstIndex(where: { !$0.isFinite }) {
                let e = bad / perAgent
                let index = Array([(bad % perAgent) / img, bad % img].suffix(shape.count - 1)).map(String.init)
                throw FusionError.invalidInput(
                    input: "frames", sample: e,
                    detail: "step \(agents[e].step): non-finite value \(tokens[bad]) at [\(index.joined(separator: ", "))]")
            }
            projected.withUnsafeMutableBufferPointer { x in
                engine.projectTokens(tokens.baseAddress!, count: count * p, into: x.baseAddress!)
            }
        }
        var tokenCounts: [Int] = []
        var texts: [Float] = []
        texts.reserveCapacity(count * config.txtLatentDim)
        for e in agents.indices {
            agents[e].tokensPerFrame = p
            agents[e].rows.append(Array(projected[(e * p * d)..<((e + 1) * p * d)]), limit: maxFrames)
            agents[e].step += 1
            tokenCounts.append(agents[e].rows.count * p)
            texts += agents[e].pooledText!
        }
        var output = [Float](repeating: 0, count: count * d)
        withKeptRows(from: 0, collected: []) { rows in
            texts.withUnsafeBufferPointer { text in
                output.withUnsafeMutableBufferPointer { out in
                    engine.fuseProjected(texts: text.baseAddress!, rows: rows, tokens: tokenCounts, into: out.baseAddress!)
                }
            }
        }
        return output
    }

    /// Calls `body` with each agent's first kept X row, nesting one `withKeptValues` per agent so
    /// that every pointer stays inside its closure.
    private func withKeptRows(from e: Int, collected: [UnsafePointer<Float>], _ body: ([UnsafePointer<Float>]) -> Void) {
        if e == agents.count { return body(collected) }
        agents[e].rows.withKeptValues { rows in
            withKeptRows(from: e + 1, collected: collected + [rows.baseAddress!], body)
        }
    }
}
