/// Per-step mode over a sliding window (`fuse --per-step --window N`): training targets that equal
/// what an acting agent with the same context limit (`stream --window N`) sees.
extension FusionEngine {
    /// Row [b, t] is plain fusion, plan A, of frames max(0, t − window + 1) … t of sample b: the vector
    /// a ``FusionSession`` with `maxFrames: window` returns at step t of that episode, bit for bit —
    /// the same calls in the same order (each frame's X rows projected on their own, one query over
    /// the kept rows, q₀ and the first block's keys of the instruction computed once). Rows
    /// t ≥ image_lengths[b] are zero.
    ///
    /// - Parameters:
    ///   - inputs: the batch (its text pooled per sample as in every mode).
    ///   - window: the most recent frames each row sees, ≥ 1.
    ///   - attention: also return the maps, (B, T, N, H, T·P): row t's weights at the absolute token
    ///     positions of its window, zero elsewhere.
    /// - Returns: output (B, T, d) and the maps when asked for.
    /// - Throws: ``FusionError/invalidInput(input:sample:detail:)`` for a window below 1; whatever
    ///   reading the inputs throws.
    /// - Complexity: per sample, the T·P projections once, plus one query per step over at most
    ///   window·P tokens.
    public func fuseWindowed(_ inputs: FusionInputs, window: Int, attention: Bool) throws -> FusionResult {
        guard window >= 1 else {
            throw FusionError.invalidInput(input: "window", sample: nil, detail: "must be at least 1 frame, found \(window)")
        }
        let config = model.config
        let (d, img, p) = (config.projDim, config.imgLatentDim, inputs.tokensPerFrame)
        let (batch, frames, tokens) = (inputs.batchSize, inputs.frames, inputs.tokens)
        var output = Tensor(zeros: [batch, frames, d])
        let mapsPerStep = config.nBlocks * config.nHeads * tokens
        var maps = [Float](repeating: 0, count: attention ? batch * frames * mapsPerStep : 0)
        for b in 0..<batch {
            let length = inputs.imageLengths[b]
            let text = try inputs.text.elements(in: inputs.pooledTextRange(sample: b))
            var x = [Float](repeating: 0, count: length * p * d)
            try inputs.images.withElements(in: inputs.imageRange(sample: b, frames: length)) { frameTokens in
                x.withUnsafeMutableBufferPointer { rows in
                    for frame in 0..<length {
                        projectTokens(frameTokens.baseAddress! + frame * p * img, count: p,
                                      into: rows.baseAddress! + frame * p * d)
                    }
                }
            }
            let fixedQuery = FixedQueryCache(d: d, heads: config.nHeads)
            for t in 0..<length {
                let first = max(0, t - window + 1)
                let kept = (t - first + 1) * p
                let step = x.withUnsafeBufferPointer { rows in
                    text.withUnsafeBufferPointer { pooled in
                        fuseProjected(text: pooled.baseAddress!, x: rows.baseAddress! + first * p * d, tokens: kept,
                                      attention: attention, fixedQuery: fixedQuery)
                    }
                }
                output.values.replaceSubrange(((b * frames + t) * d)..<((b * frames + t + 1) * d), with: step.output)
                if let stepMaps = step.attention {
                    // (N, H, kept) → the row's (N, H, T·P) at the window's token offset.
                    let base = (b * frames + t) * mapsPerStep
                    for row in 0..<(config.nBlocks * config.nHeads) {
                        let target = base + row * tokens + first * p
                        maps.replaceSubrange(target..<(target + kept), with: stepMaps[(row * kept)..<((row + 1) * kept)])
                    }
                }
            }
        }
        let attentionTensor = attention
            ? Tensor(shape: [batch, frames, config.nBlocks, config.nHeads, tokens], values: maps) : nil
        return FusionResult(output: output, attention: attentionTensor)
    }
}
