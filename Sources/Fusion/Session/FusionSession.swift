/// An acting agent's fusion: one fixed instruction, a history that grows by one frame per step.
///
/// `append(frame:)` projects only the new frame (X rows, kept) and runs one query over the kept X
/// rows: a step costs one frame's projection plus attention over the kept tokens, never a
/// re-projection of old frames. q₀ = Wt·text and the first block's key vectors depend only on the
/// instruction, so they are computed on the first step and reused (the same floats). Its result is
/// bit-identical to `FusionEngine.fuse` (plan A) in plain mode on the same frames, and so to
/// per-step mode's row t: X rows are computed row by row and attention chunks are counted from the
/// first kept token, exactly as there.
/// With `maxFrames` only the most recent frames are kept, like an agent's context limit: the result
/// is then plain fusion of the last `maxFrames` frames. `reset()` starts a new episode with the same
/// instruction.
///
/// Memory is bounded by the window: at most 2 · maxFrames · P · d floats of X rows (see
/// `FrameWindow`). Not thread-safe.
public final class FusionSession {
    public let engine: FusionEngine
    public var model: FusionModel { engine.model }
    /// The most frames kept; nil keeps the whole episode.
    public let maxFrames: Int?
    /// The pooled text token, txt_latent_dim floats.
    private let pooledText: [Float]
    /// X rows of the kept frames, oldest first, P·d floats a frame.
    private var rows = FrameWindow()
    /// P, fixed by the episode's first frame.
    private var tokensPerFrame: Int?
    /// Frames appended since the episode began (not only those kept).
    public private(set) var step = 0
    /// q₀ and the first block's key vectors of this instruction, kept across steps and episodes.
    private let fixedQuery: FixedQueryCache

    /// - Parameters:
    ///   - engine: the model's engine (share it with other work on the same model).
    ///   - text: the instruction, (L, txt_latent_dim) token latents or (txt_latent_dim) already pooled.
    ///   - textMask: (L) — nonzero marks a real token; the last real one is used. Only with 2-D text.
    ///   - maxFrames: the window, ≥ 1, or nil for no limit.
    /// - Throws: `FusionError.invalidInput` for shapes that contradict the model, a batch of more than
    ///   one instruction, a mask without a real token, or a window below 1.
    public init(engine: FusionEngine, text: any FloatSource, textMask: (any FloatSource)? = nil, maxFrames: Int? = nil) throws {
        if let maxFrames, maxFrames < 1 {
            throw FusionError.invalidInput(input: "window", sample: nil, detail: "must be at least 1 frame, found \(maxFrames)")
        }
        self.engine = engine
        self.maxFrames = maxFrames
        pooledText = try Self.pooledInstruction(text: text, textMask: textMask, model: engine.model)
        fixedQuery = FixedQueryCache(d: engine.model.config.projDim, heads: engine.model.config.nHeads)
    }

    /// The pooled token of one instruction: (L, txt_latent_dim) token latents (or a batch of one,
    /// (1, L, txt_latent_dim)) with an optional (L) mask, or (txt_latent_dim) already pooled.
    /// - Throws: `FusionError.invalidInput` as ``init(engine:text:textMask:maxFrames:)``.
    static func pooledInstruction(text: any FloatSource, textMask: (any FloatSource)?, model: FusionModel) throws -> [Float] {
        // One instruction: (L, txt) or (txt,); a batch of one, (1, L, txt), is that instruction too.
        var textShape = text.shape
        if textShape.count == 3 {
            guard textShape[0] == 1 else {
                throw FusionError.invalidInput(
                    input: "text", sample: nil,
                    detail: "a session takes one instruction, (L, txt_latent_dim) or (txt_latent_dim,); "
                        + "found \(textShape[0]) instructions, shape \(shapeText(textShape))")
            }
            textShape.removeFirst()
        }
        let batchText = Tensor(shape: [1] + textShape, values: try text.elements(in: 0..<elementCount(textShape)))
        let batchMask = try textMask.map { mask in
            Tensor(shape: [1] + mask.shape, values: try mask.elements(in: 0..<elementCount(mask.shape)))
        }
        // FusionInputs checks the instruction (and resolves its pooled token) against a one-frame history.
        let probe = try FusionInputs(text: batchText, images: Tensor(zeros: [1, 1, model.config.imgLatentDim]),
                                     textLengths: nil, textMask: batchMask, imageLengths: nil, model: model)
        return Array(batchText.values[probe.pooledTextRange(sample: 0)])
    }

    /// A session on a fresh engine for `model` (weights are read in place; nothing to pack).
    public convenience init(model: FusionModel, text: any FloatSource, textMask: (any FloatSource)? = nil,
                            maxFrames: Int? = nil, threads: Int = 0) throws {
        try self.init(engine: FusionEngine(model: model, threads: threads), text: text, textMask: textMask,
                      maxFrames: maxFrames)
    }

    /// Starts a new episode with the same instruction.
    public func reset() {
        rows = FrameWindow()
        tokensPerFrame = nil
        step = 0
    }

    /// Adds one frame and returns the fused vector for the kept history.
    ///
    /// - Parameter frame: (img_latent_dim) or (P, img_latent_dim); P must match the episode's first frame.
    /// - Returns: d floats, and the attention weights (N, H, kept frames · P) when `attention` is set.
    /// - Throws: `FusionError.invalidInput` naming the frame's step ("frame: step 3: ...") for a wrong
    ///   shape or a non-finite value.
    /// - Complexity: O(P·img·d) for the projection plus O(N·(d² + d·ffn + H·S·d)) over S kept tokens.
    public func append(frame: any FloatSource, attention: Bool = false) throws -> (output: [Float], attention: Tensor?) {
        let config = model.config
        let img = config.imgLatentDim
        let d = config.projDim
        let shape = frame.shape
        let p: Int
        switch shape.count {
        case 1 where shape[0] == img: p = 1
        case 2 where shape[1] == img && shape[0] >= 1: p = shape[0]
        default:
            throw FusionError.invalidInput(input: "frame", sample: nil,
                                           detail: "step \(step): expected shape (\(img),) or (P, \(img)), found \(shapeText(shape))")
        }
        if let tokensPerFrame, tokensPerFrame != p {
            throw FusionError.invalidInput(input: "frame", sample: nil,
                                           detail: "step \(step): has \(p) tokens, but this episode's frames have \(tokensPerFrame)")
        }
        var projected = [Float](repeating: 0, count: p * d)
        try frame.withElements(in: 0..<(p * img)) { tokens in
            if let bad = tokens.firstIndex(where: { !$0.isFinite }) {
                let index = Array([bad / img, bad % img].suffix(shape.count)).map(String.init).joined(separator: ", ")
                throw FusionError.invalidInput(input: "frame", sample: nil,
                                               detail: "step \(step): non-finite value \(tokens[bad]) at [\(index)]")
            }
            projected.withUnsafeMutableBufferPointer { x in
                engine.projectTokens(tokens.baseAddress!, count: p, into: x.baseAddress!)
            }
        }
        tokensPerFrame = p
        rows.append(projected, limit: maxFrames)
        step += 1
        let tokens = rows.count * p
        let result = rows.withKeptValues { x in
            pooledText.withUnsafeBufferPointer { text in
                engine.fuseProjected(text: text.baseAddress!, x: x.baseAddress!, tokens: tokens, attention: attention,
                                     fixedQuery: fixedQuery)
            }
        }
        let maps = result.attention.map { Tensor(shape: [config.nBlocks, config.nHeads, tokens], values: $0) }
        return (result.output, maps)
    }
}

/// The kept frames' rows, oldest first, contiguous in memory.
///
/// Appending is amortised O(frame size): frames that fall out of the window are only skipped until
/// the dead prefix is as large as the kept part, then dropped in one move. So the storage holds at
/// most twice the window, and a step never moves the whole window.
struct FrameWindow {
    private var storage: [Float] = []
    /// Floats at the front of `storage` that belong to frames no longer kept.
    private var dead = 0
    /// Frames kept.
    private(set) var count = 0

    /// Appends `frame` and keeps at most `limit` frames (nil: all). Every frame has the same size.
    mutating func append(_ frame: [Float], limit: Int?) {
        storage += frame
        count += 1
        if let limit, count > limit {
            dead += (count - limit) * frame.count
            count = limit
            if dead >= storage.count - dead {
                storage.removeFirst(dead)
                dead = 0
            }
        }
    }

    /// Calls `body` with the kept frames' rows, oldest first (count · frame size floats).
    func withKeptValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[dead...]))
        }
    }
}
