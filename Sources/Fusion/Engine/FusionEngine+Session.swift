/// The engine's incremental entry points, for a streaming session (``FusionSession``): project a
/// few new tokens once, then run one query over X rows the caller keeps.
///
/// Both go through the same kernels, tiling rules and attention chunking as ``fuse(_:options:)``
/// in plan A, so a query over the X rows of frames i…t gives the bits plain fusion of those frames
/// gives (X rows are computed row by row, attention chunks are counted from the query's first token).
extension FusionEngine {
    /// X rows for `count` image tokens: `x[r] = Wv·tokens[r]`.
    ///
    /// - Parameters:
    ///   - tokens: `count` rows of img_latent_dim floats.
    ///   - x: room for `count` rows of d floats.
    func projectTokens(_ tokens: UnsafePointer<Float>, count: Int, into x: UnsafeMutablePointer<Float>) {
        let config = model.config
        let packing = PackingClock()
        weights.arena.withPointer { arena in
            weights.withTensorBases { tensorBases in
                let weight = weights.operands([weights.vision], rows: count, pool: pool, arena: arena,
                                              tensorBases: tensorBases, packing: packing)[0]
                pool.gemm(GemmCall(
                    x: tokens, ldx: config.imgLatentDim, weight: weight, inputs: config.imgLatentDim,
                    outputs: config.projDim, bias: nil, y: x, ldy: config.projDim, rows: 0..<count,
                    columns: 0..<config.projDim))
            }
        }
    }

    /// The fused vector of one sample whose X rows are given: q₀ = Wt·text, the N blocks over the
    /// `tokens` rows of `x`, the final norm.
    ///
    /// - Parameters:
    ///   - text: the pooled text token, txt_latent_dim floats.
    ///   - x: `tokens` ≥ 1 rows of d floats (from ``projectTokens(_:count:into:)``).
    ///   - attention: also return the weights, (N, H, tokens) in C order.
    ///   - fixedQuery: for a caller whose `text` never changes: q₀ and the first block's key vectors,
    ///     computed on the first call and reused after (the same bits, three weight matrices fewer to read).
    /// - Returns: d floats, and the weights when asked for.
    func fuseProjected(text: UnsafePointer<Float>, x: UnsafePointer<Float>, tokens: Int, attention: Bool,
                       fixedQuery: FixedQueryCache? = nil) -> (output: [Float], attention: [Float]?)
    {
        precondition(tokens >= 1, "fuseProjected: a query needs at least one token, got \(tokens)")
        let config = model.config
        let chunk = SampleChunk(samples: [0], imageLengths: [tokens], tokensPerFrame: 1, perStep: false)
        let chunkBudget = max(1, budgets.partialFloats / (config.nHeads * config.projDim))
        let groups = chunk.attentionGroups(chunkBudget: chunkBudget)
        let layout = ScratchLayout(
            config: config, samples: 1, tokens: 0, queries: 1, groupTokens: tokens,
            groupChunks: chunk.queries[0].chunks)
        let scratch = AlignedFloats(count: layout.total)
        var output = [Float](repeating: 0, count: config.projDim)
        var maps = [Float](repeating: 0, count: attention ? config.nBlocks * config.nHeads * tokens : 0)
        let packing = PackingClock()
        output.withUnsafeMutableBufferPointer { out in
            maps.withUnsafeMutableBufferPointer { mapsOut in
                scratch.withPointer { scratchBase in
                    weights.arena.withPointer { arena in
                        weights.withTensorBases { tensorBases in
                            (scratchBase + layout.text).update(from: text, count: config.txtLatentDim)
                            let sink = ResultSink(
                                output: out.baseAddress!, attention: attention ? mapsOut.baseAddress : nil,
                                tokenAxis: tokens, stepsPerSample: 1)
                            QueryPass(
                                pool: pool, weights: weights, arena: arena, tensorBases: tensorBases, packing: packing,
                                scratch: scratchBase, layout: layout, x: x, fixedQuery: fixedQuery, chunk: chunk,
                                groups: groups, sink: sink
                            ).run()
                        }
                    }
                }
            }
        }
        return (output, attention ? maps : nil)
    }
}

extension FusionEngine {
    /// The fused vectors of E samples at once (a batch of streaming sessions), each over its own X
    /// rows: one pass of the N blocks for all E queries, so every weight matrix is read once for all
    /// of them. Sample e's vector has the bits ``fuseProjected(text:x:tokens:attention:fixedQuery:)``
    /// gives it alone (GEMM rows are independent, attention chunks are counted from each sample's
    /// first row).
    ///
    /// - Parameters:
    ///   - texts: E rows of txt_latent_dim floats, one after the other (the pooled text tokens).
    ///   - rows: per sample, its first X row; sample e has `tokens[e]` ≥ 1 rows of d floats.
    ///   - output: room for E · d floats, sample-major.
    func fuseProjected(
        texts: UnsafePointer<Float>, rows: [UnsafePointer<Float>], tokens: [Int], into output: UnsafeMutablePointer<Float>
    ) {
        precondition(rows.count == tokens.count && !rows.isEmpty && tokens.allSatisfy { $0 >= 1 },
                     "fuseProjected: \(rows.count) samples with \(tokens.count) token counts, each at least 1")
        let config = model.config
        let samples = rows.count
        let chunk = SampleChunk(samples: Array(0..<samples), imageLengths: tokens, tokensPerFrame: 1, perStep: false)
        let chunkBudget = max(1, budgets.partialFloats / (config.nHeads * config.projDim))
        let groups = chunk.attentionGroups(chunkBudget: chunkBudget)
        var groupTokens = 0
        var groupChunks = 0
        for group in groups {
            groupTokens = max(groupTokens, chunk.queries[group].reduce(0) { $0 + $1.tokens })
            groupChunks = max(groupChunks, chunk.queries[group].reduce(0) { $0 + $1.chunks })
        }
        let layout = ScratchLayout(
            config: config, samples: samples, tokens: 0, queries: samples, groupTokens: groupTokens,
            groupChunks: groupChunks)
        let scratch = AlignedFloats(count: layout.total)
        let packing = PackingClock()
        scratch.withPointer { scratchBase in
            weights.arena.withPointer { arena in
                weights.withTensorBases { tensorBases in
                    (scratchBase + layout.text).update(from: texts, count: samples * config.txtLatentDim)
                    let sink = ResultSink(output: output, attention: nil, tokenAxis: 0, stepsPerSample: 1)
                    var pass = QueryPass(
                        pool: pool, weights: weights, arena: arena, tensorBases: tensorBases, packing: packing,
                        scratch: scratchBase, layout: layout, x: scratchBase + layout.x, chunk: chunk,
                        groups: groups, sink: sink)
                    pass.sampleRows = rows
                    pass.run()
                }
            }
        }
    }
}
