/// Plan A's two halves on their own, for callers that keep X rows between calls (the streaming
/// session of issue 7): project image tokens once, then fuse a query over any prefix of them.
/// Both give the same bits as ``FusionEngine/fuse(_:options:)``: X rows are computed row by row,
/// and the query side only depends on the pooled text token and the X rows it attends.
extension FusionEngine {
    /// X = tokens·Wvᵀ: `count` image tokens (img_latent_dim floats each, row stride `stride`) into
    /// `x` (count × d, row-major). Row r's bits depend only on token r.
    /// - Precondition: count ≥ 1, stride ≥ img_latent_dim.
    func project(tokens: UnsafePointer<Float>, stride: Int, count: Int, into x: UnsafeMutablePointer<Float>) {
        let config = model.config
        precondition(count >= 1 && stride >= config.imgLatentDim, "project: \(count) tokens, stride \(stride)")
        let packing = PackingClock()
        weights.arena.withPointer { arena in
            weights.withTensorBases { tensorBases in
                let weight = weights.operands(
                    [weights.vision], rows: count, pool: pool, arena: arena, tensorBases: tensorBases, packing: packing)[0]
                pool.gemm(GemmCall(
                    x: tokens, ldx: stride, weight: weight, inputs: config.imgLatentDim,
                    outputs: config.projDim, bias: nil, y: x, ldy: config.projDim, rows: 0..<count,
                    columns: 0..<config.projDim))
            }
        }
    }

    /// Fuses one query: the pooled text token `text` (txt_latent_dim floats) over the first `tokens`
    /// rows of `x` (from ``project(tokens:stride:count:into:)``), written to `output` (d floats) and,
    /// when `attention` is given, the weights to attention[(i·H + h)·tokenAxis + t] for t < tokens
    /// (entries t ≥ tokens are not written).
    /// - Precondition: tokens ≥ 1, tokenAxis ≥ tokens.
    func fuseProjected(
        text: UnsafePointer<Float>, x: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>,
        attention: UnsafeMutablePointer<Float>?, tokenAxis: Int
    ) {
        precondition(tokens >= 1 && tokenAxis >= tokens, "fuseProjected: \(tokens) tokens, token axis \(tokenAxis)")
        let config = model.config
        let chunk = SampleChunk(samples: 0..<1, imageLengths: [tokens], tokensPerFrame: 1, perStep: false)
        let groups = chunk.attentionGroups(chunkBudget: Int.max)
        let layout = ScratchLayout(
            config: config, samples: 1, tokens: 0, queries: 1, groupTokens: tokens, groupChunks: chunk.queries[0].chunks)
        let scratch = AlignedFloats(count: layout.total)
        let packing = PackingClock()
        scratch.withPointer { scratchBase in
            (scratchBase + layout.text).update(from: text, count: config.txtLatentDim)
            weights.arena.withPointer { arena in
                weights.withTensorBases { tensorBases in
                    QueryPass(
                        pool: pool, weights: weights, arena: arena, tensorBases: tensorBases, packing: packing,
                        scratch: scratchBase, layout: layout, x: x, chunk: chunk, groups: groups,
                        sink: ResultSink(output: output, attention: attention, tokenAxis: tokenAxis, stepsPerSample: 1)
                    ).run()
                }
            }
        }
    }
}
