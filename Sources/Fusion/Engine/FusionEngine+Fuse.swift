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
    /// Memory: samples are processed in chunks of consecutive samples (at most 32 MiB of X rows and
    /// 2048 queries each), and after each chunk the pages of its images (and text) are released from
    /// the resident set when the inputs are memory-mapped files; so beyond the inputs' and outputs'
    /// own size, memory does not grow with B.
    /// - Throws: whatever reading `inputs`' sources throws (samples are read in order, so it is the
    ///   lowest failing sample's error).
    public func fuse(_ inputs: FusionInputs, options: FusionOptions) throws -> FusionRun {
        let plan = plan(for: inputs, options: options)
        let clock = ContinuousClock()
        let start = clock.now
        var timings = FusionTimings()
        let result: FusionResult
        switch plan.kind {
        case .reference:
            result = try model.fuseReference(inputs, options: options)
        case .xFormed:
            result = try fuseChunks(inputs, options: options, absorbProjector: false, timings: &timings)
        case .projectorAbsorbed:
            result = try fuseChunks(inputs, options: options, absorbProjector: true, timings: &timings)
        }
        timings.forward = seconds(clock.now - start)
        return FusionRun(result: result, plan: plan, timings: timings)
    }

    /// Plan A (or, with `absorbProjector`, plan B′) over the whole batch, chunk by chunk.
    private func fuseChunks(
        _ inputs: FusionInputs, options: FusionOptions, absorbProjector: Bool, timings: inout FusionTimings
    ) throws -> FusionResult {
        let config = model.config
        let d = config.projDim
        let heads = config.nHeads
        let batch = inputs.batchSize
        let steps = options.perStep ? inputs.frames : 1
        let chunks = SampleChunk.split(
            imageLengths: inputs.imageLengths, tokensPerFrame: inputs.tokensPerFrame, perStep: options.perStep,
            // Plan B′ keeps no X: its token budget only bounds converted copies of the images held
            // at once (none for float32 files, read in place), so it allows 4× more floats; fewer,
            // larger chunks stream the block weights fewer times.
            tokenBudget: absorbProjector
                ? max(1, 4 * budgets.tokenFloats / config.imgLatentDim) : max(1, budgets.tokenFloats / d),
            // Plan B′ holds u_h and the image-space sums, 2·H·img floats per query.
            queryBudget: absorbProjector
                ? min(budgets.queries, max(1, budgets.tokenFloats / (2 * heads * config.imgLatentDim)))
                : budgets.queries)
        let attentionDim = absorbProjector ? max(d, config.imgLatentDim) : d
        let chunkBudget = max(1, budgets.partialFloats / (heads * attentionDim))
        let groups = chunks.map { $0.attentionGroups(chunkBudget: chunkBudget) }
        var maxGroupTokens = 0
        var maxGroupChunks = 0
        for (chunk, chunkGroups) in zip(chunks, groups) {
            for group in chunkGroups {
                maxGroupTokens = max(maxGroupTokens, chunk.queries[group].reduce(0) { $0 + $1.tokens })
                maxGroupChunks = max(maxGroupChunks, chunk.queries[group].reduce(0) { $0 + $1.chunks })
            }
        }
        let layout = ScratchLayout(
            config: config,
            samples: chunks.map(\.samples.count).max() ?? 0,
            tokens: absorbProjector ? 0 : chunks.map(\.totalTokens).max() ?? 0,
            queries: chunks.map(\.queries.count).max() ?? 0,
            groupTokens: maxGroupTokens, groupChunks: maxGroupChunks, imageSpace: absorbProjector)
        let scratch = AlignedFloats(count: layout.total)

        var output = Tensor(zeros: [batch, steps, d])
        let attentionShape: [Int]? =
            options.attention
            ? (options.perStep
                ? [batch, inputs.frames, config.nBlocks, heads, inputs.tokens]
                : [batch, config.nBlocks, heads, inputs.tokens])
            : nil
        // One buffer, wrapped as the result's tensor at the end (no zero-filled twin to copy on write).
        var attentionValues = [Float](repeating: 0, count: attentionShape.map(elementCount) ?? 0)
        let clock = ContinuousClock()
        let packing = PackingClock()
        try output.values.withUnsafeMutableBufferPointer { out in
            try attentionValues.withUnsafeMutableBufferPointer { maps in
                try scratch.withPointer { scratchBase in
                    try weights.arena.withPointer { arena in
                        try weights.withTensorBases { tensorBases in
                            let sink = ResultSink(
                                output: out.baseAddress!, attention: options.attention ? maps.baseAddress : nil,
                                tokenAxis: inputs.tokens, stepsPerSample: steps)
                            for (chunk, chunkGroups) in zip(chunks, groups) {
                                let pass = QueryPass(
                                    pool: pool, weights: weights, arena: arena, tensorBases: tensorBases,
                                    packing: packing, scratch: scratchBase, layout: layout, x: scratchBase + layout.x, chunk: chunk,
                                    groups: chunkGroups, sink: sink)
                                let projectionStart = clock.now
                                try readText(inputs, chunk: chunk, into: scratchBase + layout.text)
                                if absorbProjector {
                                    try withSampleImages(inputs, chunk: chunk, from: 0, collected: []) { images in
                                        var imagePass = pass
                                        imagePass.imageRows = images
                                        imagePass.run()
                                    }
                                    releaseImages(inputs, chunk: chunk)
                                    timings.blocks += seconds(clock.now - projectionStart)
                                    continue
                                }
                                try project(
                                    inputs, chunk: chunk, weight: pass.matrix(weights.vision, rows: chunk.totalTokens),
                                    into: scratchBase + layout.x)
                                let blocksStart = clock.now
                                timings.projection += seconds(blocksStart - projectionStart)
                                pass.run()
                                timings.blocks += seconds(clock.now - blocksStart)
                            }
                        }
                    }
                }
            }
        }
        let attention = attentionShape.map { Tensor(shape: $0, values: attentionValues) }
        timings.pack = packing.seconds
        timings.chunks = chunks.count
        return FusionResult(output: output, attention: attention)
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
        inputs.text.releaseResidentPages(
            in: (chunk.samples.lowerBound * perSample)..<(chunk.samples.upperBound * perSample))
    }

    /// X = images·Wvᵀ for the valid tokens of every sample of `chunk` (padding frames are never
    /// read), one GEMM region over all of them; then releases the images' pages of the chunk.
    private func project(
        _ inputs: FusionInputs, chunk: SampleChunk, weight: GemmWeight, into x: UnsafeMutablePointer<Float>
    ) throws {
        let d = model.config.projDim
        let img = inputs.imageLatentDim
        try withSampleImages(inputs, chunk: chunk, from: 0, collected: []) { images in
            pool.gemm(images.enumerated().map { local, rows in
                GemmCall(
                    x: rows, ldx: img, weight: weight, inputs: img, outputs: d, bias: nil,
                    y: x + chunk.firstRow[local] * d, ldy: d, rows: 0..<chunk.tokens[local], columns: 0..<d)
            })
        }
        releaseImages(inputs, chunk: chunk)
    }

    /// Releases the images' pages of the samples of `chunk` (see `FloatSource.releaseResidentPages`).
    private func releaseImages(_ inputs: FusionInputs, chunk: SampleChunk) {
        let perSample = inputs.tokens * inputs.imageLatentDim
        inputs.images.releaseResidentPages(
            in: (chunk.samples.lowerBound * perSample)..<(chunk.samples.upperBound * perSample))
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
        let b = chunk.samples.lowerBound + local
        try inputs.images.withElements(in: inputs.imageRange(sample: b, frames: inputs.imageLengths[b])) { rows in
            try withSampleImages(inputs, chunk: chunk, from: local + 1, collected: collected + [rows.baseAddress!], body)
        }
    }
}
