/// How much scratch one sample chunk and one attention group may use. Budgets change only memory
/// use and the number of parallel regions, never a result's bits.
struct EngineBudgets {
    /// X rows (floats) one sample chunk may hold.
    var tokenFloats: Int
    /// Queries one sample chunk may hold (the FFN hidden layer is queries × ffn_dim floats).
    var queries: Int
    /// Attention partial sums (floats) one attention group may hold.
    var partialFloats: Int

    /// 8 Mi floats (32 MiB) of X, 2048 queries, 4 Mi floats (16 MiB) of partial sums.
    static let standard = EngineBudgets(tokenFloats: 8 << 20, queries: 2048, partialFloats: 4 << 20)
}

extension FusionEngine {
    /// Fuses a batch with the plan `options.plan` resolves to (see ``plan(for:options:)``).
    ///
    /// Shapes, zero rules and errors are those of ``FusionModel/fuseReference(_:options:)``:
    /// output (B, 1, d) or (B, T, d) in per-step mode, attention maps (B, N, H, T·P) or
    /// (B, T, N, H, T·P) when `options.attention`. `options.threads` is ignored: the engine's pool
    /// decides (results do not depend on it).
    ///
    /// Each sample runs the plan ``FusionPlan/sampleKinds`` gives it; the samples of one plan are
    /// processed in chunks (at most 32 MiB of X rows and 2048 queries each), and after each chunk
    /// the pages of its images (and text) are released from the resident set when the inputs are
    /// memory-mapped files; so beyond the inputs' and outputs' own size, memory does not grow with B.
    /// - Throws: whatever reading `inputs`' sources throws (plan A's samples are read first, then
    ///   plan B′'s, each in increasing order; the first failure ends the call).
    public func fuse(_ inputs: FusionInputs, options: FusionOptions) throws -> FusionRun {
        let plan = plan(for: inputs, options: options)
        let clock = ContinuousClock()
        let start = clock.now
        var timings = FusionTimings()
        let result: FusionResult
        if options.perStep, let window = options.window {
            result = try fuseWindowed(inputs, window: window, attention: options.attention)
        } else if plan.kind == .reference {
            result = try model.fuseReference(inputs, options: options)
        } else {
            result = try fuseSamples(inputs, options: options, sampleKinds: plan.sampleKinds, timings: &timings)
        }
        timings.forward = seconds(clock.now - start)
        return FusionRun(result: result, plan: plan, timings: timings)
    }

    /// Every sample with its own plan (`sampleKinds[b]`: plan A, B′ or C), the samples of each
    /// plan chunk by chunk, all writing into one output tensor (and one set of attention maps).
    private func fuseSamples(
        _ inputs: FusionInputs, options: FusionOptions, sampleKinds: [FusionPlanKind], timings: inout FusionTimings
    ) throws -> FusionResult {
        let config = model.config
        let d = config.projDim
        let batch = inputs.batchSize
        let steps = options.perStep ? inputs.frames : 1
        var output = Tensor(zeros: [batch, steps, d])
        let attentionShape: [Int]? =
            options.attention
            ? (options.perStep
                ? [batch, inputs.frames, config.nBlocks, config.nHeads, inputs.tokens]
                : [batch, config.nBlocks, config.nHeads, inputs.tokens])
            : nil
        // One buffer, wrapped as the result's tensor at the end (no zero-filled twin to copy on write).
        var attentionValues = [Float](repeating: 0, count: attentionShape.map(elementCount) ?? 0)
        let packing = PackingClock()
        try output.values.withUnsafeMutableBufferPointer { out in
            try attentionValues.withUnsafeMutableBufferPointer { maps in
                let sink = ResultSink(
                    output: out.baseAddress!, attention: options.attention ? maps.baseAddress : nil,
                    tokenAxis: inputs.tokens, stepsPerSample: steps)
                // Plans A and B′ share their chunks (and so every read of the shared weights); plan C
                // runs its own.
                let absorbed = sampleKinds.indices.filter { sampleKinds[$0] == .projectorAbsorbed }
                let planA = sampleKinds.indices.filter { sampleKinds[$0] == .xFormed }
                if !absorbed.isEmpty || !planA.isEmpty {
                    try fuseChunks(
                        inputs, samples: (absorbed + planA).sorted(), absorbed: Set(absorbed), perStep: options.perStep,
                        keysValues: false, sink: sink, packing: packing, timings: &timings)
                }
                let planC = sampleKinds.indices.filter { sampleKinds[$0] == .kvFormed }
                if !planC.isEmpty {
                    try fuseChunks(
                        inputs, samples: planC, absorbed: [], perStep: options.perStep, keysValues: true, sink: sink,
                        packing: packing, timings: &timings)
                }
            }
        }
        let attention = attentionShape.map { Tensor(shape: $0, values: attentionValues) }
        timings.pack = packing.seconds
        return FusionResult(output: output, attention: attention)
    }

    /// The samples `samples` of the batch, chunk by chunk, writing their rows into `sink`: those in
    /// `absorbed` with plan B′, the others with plan A, or with plan C when `keysValues` (then
    /// `absorbed` is empty). A chunk may hold both B′ and A samples (``SampleChunk/splitMixed``).
    private func fuseChunks(
        _ inputs: FusionInputs, samples: [Int], absorbed: Set<Int>, perStep: Bool, keysValues: Bool,
        sink: ResultSink, packing: PackingClock, timings: inout FusionTimings
    ) throws {
        let config = model.config
        let d = config.projDim
        let heads = config.nHeads
        let img = config.imgLatentDim
        // X rows of plans A and C (C keeps K and V beside X: three rows of d floats per token). Plan B′
        // keeps no X: its token budget only bounds converted copies of the images held at once (none
        // for float32 files, read in place), so it allows 4× more floats; fewer, larger chunks stream
        // the block weights fewer times. B′ holds u_h and the image-space sums, 2·H·img floats per query.
        let tokenBudget = max(1, budgets.tokenFloats / (keysValues ? 3 * d : d))
        let absorbedTokenBudget = max(1, 4 * budgets.tokenFloats / img)
        let absorbedQueryBudget = min(budgets.queries, max(1, budgets.tokenFloats / (2 * heads * img)))
        let chunks: [SampleChunk]
        if absorbed.isEmpty {
            chunks = SampleChunk.split(
                samples: samples, imageLengths: inputs.imageLengths, tokensPerFrame: inputs.tokensPerFrame,
                perStep: perStep, tokenBudget: tokenBudget, queryBudget: budgets.queries)
        } else {
            precondition(!perStep && !keysValues, "fuseChunks: plan B′ runs in plain mode only, beside plan A")
            chunks = SampleChunk.splitMixed(
                absorbed: absorbed, samples: samples, imageLengths: inputs.imageLengths,
                tokensPerFrame: inputs.tokensPerFrame, tokenBudget: tokenBudget,
                absorbedTokenBudget: absorbedTokenBudget, queryBudget: budgets.queries,
                absorbedQueryBudget: absorbedQueryBudget)
        }
        // Partial sums per (chunk, head): plan A's rows of d, B′'s of img, C's of d/H.
        let chunkBudget = max(1, budgets.partialFloats / (heads * (keysValues ? d / heads : d)))
        let absorbedChunkBudget = max(1, budgets.partialFloats / (heads * max(d, img)))
        let groups = chunks.map { chunk in
            let absorbedQueries = chunk.absorbedQueries
            return chunk.attentionGroups(in: absorbedQueries, chunkBudget: absorbedChunkBudget)
                + chunk.attentionGroups(in: absorbedQueries.upperBound..<chunk.queries.count, chunkBudget: chunkBudget)
        }
        var maxGroupTokens = 0
        var maxGroupChunks = 0
        for (chunk, chunkGroups) in zip(chunks, groups) {
            for group in chunkGroups {
                maxGroupTokens = max(maxGroupTokens, chunk.queries[group].reduce(0) { $0 + $1.tokens })
                maxGroupChunks = max(maxGroupChunks, chunk.queries[group].reduce(0) { $0 + $1.chunks })
            }
        }
        // X is indexed by every sample's rows (plan-B′ samples' rows are reserved, never touched).
        let formsX = chunks.contains { $0.absorbedSamples < $0.samples.count }
        let layout = ScratchLayout(
            config: config,
            samples: chunks.map(\.samples.count).max() ?? 0,
            tokens: formsX ? chunks.map(\.totalTokens).max() ?? 0 : 0,
            queries: chunks.map(\.queries.count).max() ?? 0,
            groupTokens: maxGroupTokens, groupChunks: maxGroupChunks, imageSpace: !absorbed.isEmpty,
            keysValues: keysValues)
        let scratch = AlignedFloats(count: layout.total, hugePages: true)
        let clock = ContinuousClock()
        try scratch.withPointer { scratchBase in
            try weights.arena.withPointer { arena in
                try weights.withTensorBases { tensorBases in
                    for (chunk, chunkGroups) in zip(chunks, groups) {
                        var pass = QueryPass(
                            pool: pool, weights: weights, arena: arena, tensorBases: tensorBases,
                            packing: packing, scratch: scratchBase, layout: layout, x: scratchBase + layout.x, chunk: chunk,
                            groups: chunkGroups, sink: sink)
                        pass.formsKeysValues = keysValues
                        let projectionStart = clock.now
                        try readText(inputs, chunk: chunk, into: scratchBase + layout.text)
                        try withSampleImages(inputs, chunk: chunk, from: 0, collected: []) { images in
                            if chunk.absorbedSamples < chunk.samples.count {
                                let xRows = chunk.totalTokens - chunk.tokens.prefix(chunk.absorbedSamples).reduce(0, +)
                                project(
                                    images, chunk: chunk, weight: pass.matrix(weights.vision, rows: xRows),
                                    into: scratchBase + layout.x)
                            }
                            let blocksStart = clock.now
                            timings.projection += seconds(blocksStart - projectionStart)
                            if chunk.absorbedSamples > 0 { pass.imageRows = images }
                            pass.run()
                            timings.blocks += seconds(clock.now - blocksStart)
                        }
                        releaseImages(inputs, chunk: chunk)
                    }
                }
            }
        }
        timings.chunks += chunks.count
    }

    /// Copies the pooled text token of every sample of `chunk` into consecutive rows of
    /// txt_latent_dim floats, then releases the text pages of those samples.
    private func readText(_ inputs: FusionInputs, chunk: SampleChunk, into rows: UnsafeMutablePointer<Float>) throws {
        let width = inputs.textLatentDim
        for (local, b) in chunk.samples.enumerated() {
            try inputs.text.withElements(in: inputs.pooledTextRange(sample: b)) { token in
                (rows + local * width).update(from: token.baseAddress!, count: width)
            }
        }
        let perSample = (inputs.textTokens ?? 1) * width
        for run in chunk.sampleRuns {
            inputs.text.releaseResidentPages(in: (run.lowerBound * perSample)..<(run.upperBound * perSample))
        }
    }

    /// X = images·Wvᵀ for the valid tokens of the chunk's plan-A (or C) samples (its plan-B′ samples and
    /// padding frames are never read), one GEMM region over all of them. `images`: each sample's
    /// first valid image token.
    private func project(
        _ images: [UnsafePointer<Float>], chunk: SampleChunk, weight: GemmWeight, into x: UnsafeMutablePointer<Float>
    ) {
        let d = model.config.projDim
        let img = model.config.imgLatentDim
        pool.gemm(images.enumerated().dropFirst(chunk.absorbedSamples).map { local, rows in
            GemmCall(
                x: rows, ldx: img, weight: weight, inputs: img, outputs: d, bias: nil,
                y: x + chunk.firstRow[local] * d, ldy: d, rows: 0..<chunk.tokens[local], columns: 0..<d)
        })
    }

    /// Releases the images' pages of the samples of `chunk` (see `FloatSource.releaseResidentPages`).
    private func releaseImages(_ inputs: FusionInputs, chunk: SampleChunk) {
        let perSample = inputs.tokens * inputs.imageLatentDim
        for run in chunk.sampleRuns {
            inputs.images.releaseResidentPages(in: (run.lowerBound * perSample)..<(run.upperBound * perSample))
        }
    }

    /// Calls `body` with the first element of each sample's valid image tokens (from `local` on),
    /// nesting one `withElements` per sample so that every pointer stays inside its closure.
    private func withSampleImages(
        _ inputs: FusionInputs, chunk: SampleChunk, from local: Int, collected: [UnsafePointer<Float>],
        _ body: ([UnsafePointer<Float>]) throws -> Void
    ) throws {
        if local == chunk.samples.count {
            return try body(collected)
        }
        let b = chunk.samples[local]
        try inputs.images.withElements(in: inputs.imageRange(sample: b, frames: inputs.imageLengths[b])) { rows in
            try withSampleImages(inputs, chunk: chunk, from: local + 1, collected: collected + [rows.baseAddress!], body)
        }
    }
}
