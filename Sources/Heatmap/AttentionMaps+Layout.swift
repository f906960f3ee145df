extension AttentionMaps {
    /// Wraps maps whose layout is read from the axis count, as `fuse --attention` writes them:
    /// 4 axes are plain maps `(B, N, H, T·P)`, 5 axes per-step maps `(B, T, N, H, T·P)`.
    ///
    /// - Parameter tokensPerFrame: P when known. When nil, per-step maps take P = (T·P) / T from their
    ///   step axis; plain maps cannot tell, so P = 1 and every token is drawn as its own frame column.
    /// - Throws: `HeatmapError` when the shape has neither 4 nor 5 axes, when per-step maps' step
    ///   count does not divide their token count (P nil), and for everything
    ///   `init(values:shape:tokensPerFrame:perStep:)` checks.
    public init(values: [Float], shape: [Int], tokensPerFrame: Int? = nil) throws {
        guard shape.count == 4 || shape.count == 5 else { throw HeatmapError.unknownRank(shape: shape) }
        let perStep = shape.count == 5
        var perFrame = tokensPerFrame ?? 1
        if perStep, tokensPerFrame == nil, shape[1] > 0 {
            guard shape[4] % shape[1] == 0 else {
                throw HeatmapError.stepsDoNotDivideTokens(steps: shape[1], tokens: shape[4])
            }
            perFrame = shape[4] / shape[1]
        }
        try self.init(values: values, shape: shape, tokensPerFrame: perFrame, perStep: perStep)
    }
}
