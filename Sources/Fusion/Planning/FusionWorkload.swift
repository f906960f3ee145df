/// The shape of one forward call, as the cost model sees it: sizes only, no data.
public struct FusionWorkload: Sendable, Equatable {
    /// B, samples.
    public var batch: Int
    /// T, frames per sample (padding included).
    public var frames: Int
    /// P, tokens per frame.
    public var tokensPerFrame: Int
    /// Per-step mode (one query per valid frame) instead of plain mode (one query per sample).
    public var perStep: Bool
    /// Σ_b image_lengths[b]·P: X rows a plan that forms X computes (padding is never computed).
    public var validTokens: Int
    /// Output rows computed: B in plain mode, Σ_b image_lengths[b] in per-step mode.
    public var queries: Int
    /// Valid frames per sample (1…T).
    public var imageLengths: [Int]
    /// Σ over queries of the tokens each attends to: Σ_b S_b in plain mode, Σ_b Σ_{t<len_b} (t+1)·P
    /// in per-step mode.
    public var attendedTokens: Int

    /// The workload of `inputs` in the mode of `options`.
    public init(inputs: FusionInputs, options: FusionOptions) {
        self.init(
            imageLengths: inputs.imageLengths, frames: inputs.frames, tokensPerFrame: inputs.tokensPerFrame,
            perStep: options.perStep)
    }

    /// The workload of a batch with these valid frame counts (1…T each).
    public init(imageLengths: [Int], frames: Int, tokensPerFrame: Int, perStep: Bool) {
        batch = imageLengths.count
        self.imageLengths = imageLengths
        self.frames = frames
        self.tokensPerFrame = tokensPerFrame
        self.perStep = perStep
        validTokens = imageLengths.reduce(0) { $0 + $1 * tokensPerFrame }
        queries = perStep ? imageLengths.reduce(0, +) : imageLengths.count
        attendedTokens =
            perStep
            ? imageLengths.reduce(0) { $0 + tokensPerFrame * $1 * ($1 + 1) / 2 }
            : validTokens
    }
}

extension FusionWorkload {
    /// The workload of the samples `samples` of this one (same T, P and mode).
    func subset(_ samples: [Int]) -> FusionWorkload {
        FusionWorkload(
            imageLengths: samples.map { imageLengths[$0] }, frames: frames, tokensPerFrame: tokensPerFrame,
            perStep: perStep)
    }
}
