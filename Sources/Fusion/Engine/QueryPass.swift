import FusionKernels

/// Where a forward pass writes its results: the output tensor (rows of d floats) and, when asked
/// for, the attention maps. Pointers borrowed for the duration of one forward pass.
struct ResultSink {
    /// The output tensor's first float; query q's row starts at `output + outputRow(q)·d`.
    let output: UnsafeMutablePointer<Float>
    /// The attention tensor's first float, or nil when maps were not asked for.
    let attention: UnsafeMutablePointer<Float>?
    /// T·P, the token axis of the attention maps (padding included).
    let tokenAxis: Int
    /// T in per-step mode (rows per sample of the output), 1 in plain mode.
    let stepsPerSample: Int
}

/// Plan A's query side for one ``SampleChunk``: the fusion blocks applied to every query of the
/// chunk at once, then the final norm and the output rows.
///
/// Per block, with x the query (post-norm) or LN1(query) (pre-norm), all rows batched:
/// `Q = Wq·x + bq`; `r_h = (Wk_h/√dh)ᵀ·Q_h` (K absorbed: Q_h·bk_h is the same for every token and
/// cancels in the softmax); attention over the query's X rows with `u = r` in fixed chunks of
/// ``attentionChunkTokens`` → `z_h = Σ_t a_h[t]·X_t` and the weights; `o_h = Wvv_h·z_h + bv_h`
/// (V absorbed: the weights sum to 1); `attn = Wo·o + bo`; then residual, LayerNorm and FFN as the
/// post- or pre-norm block of docs/model.md. Every row is computed on its own with a fixed operation
/// order, so a query's bits depend only on its own text token and X rows.
///
/// Plan B′ (`imageRows` given, for the chunk's first ``SampleChunk/absorbedSamples`` samples; the
/// others run plan A in the same pass) replaces the attention step: `u_h = Wvᵀ·r_h`, attention over the raw
/// image rows → `y_h = Σ_t a_h[t]·image_t`, then `z_h = Wv·y_h` — the same function, other rounding.
///
/// Borrowed pointers: valid only inside the forward pass's `withPointer` closures.
struct QueryPass {
    let pool: KernelPool
    let weights: EngineWeights
    /// The weight arena's first float (vectors and packed copies).
    let arena: UnsafeMutablePointer<Float>
    /// The first float of each of the weights' source tensors.
    let tensorBases: [UnsafeRawPointer]
    /// Where time spent packing weights is added up.
    let packing: PackingClock
    /// The scratch arena's first float, laid out by `layout`.
    let scratch: UnsafeMutablePointer<Float>
    let layout: ScratchLayout
    /// The chunk's X rows (query q attends rows firstRow..<firstRow + tokens); usually `layout.x`.
    let x: UnsafePointer<Float>
    /// Plan A only: per sample of the chunk, its first X row (stride d), for X rows that are not
    /// contiguous in `x` (a batch of streaming sessions, each keeping its own). nil: `x + firstRow·d`.
    var sampleRows: [UnsafePointer<Float>]? = nil
    /// Plan B′ only: per sample of the chunk, its first image token (row stride img_latent_dim);
    /// attention then runs over the raw images and X is never formed. nil for plan A.
    var imageRows: [UnsafePointer<Float>]? = nil
    /// A single-query pass whose text token never changes (a streaming session) keeps q₀ and the first
    /// block's key vectors here, computed on the first call and copied on later ones: the same floats,
    /// without reading Wt, Wq and Wk again. nil: everything is computed.
    var fixedQuery: FixedQueryCache? = nil
    /// Plan C: K and V formed for the chunk's tokens in every block (``ScratchLayout/keys`` and
    /// ``ScratchLayout/values`` hold them) instead of being absorbed into the queries.
    var formsKeysValues = false
    let chunk: SampleChunk
    /// Attention query groups (see ``SampleChunk/attentionGroups(chunkBudget:)``).
    let groups: [Range<Int>]
    let sink: ResultSink

    var config: FusionConfig { weights.config }

    /// The scratch buffer at `offset`.
    func buffer(_ offset: Int) -> UnsafeMutablePointer<Float> { scratch + offset }

    /// The operand of matrix `index` for a GEMM of `rows` rows (packing it first when due).
    func matrix(_ index: Int, rows: Int) -> GemmWeight {
        matrices([index], rows: rows)[0]
    }

    /// The operands of several matrices used by one parallel region.
    func matrices(_ indices: [Int], rows: Int) -> [GemmWeight] {
        weights.operands(indices, rows: rows, pool: pool, arena: arena, tensorBases: tensorBases, packing: packing)
    }

    /// A vector's first float (nil stays nil).
    func vector(_ slot: VectorSlot?) -> UnsafePointer<Float>? { slot.map { UnsafePointer(arena + $0.offset) } }

    /// Runs everything after X: q₀ = Wt·t for each sample (text rows already in `layout.text`),
    /// broadcast to the sample's queries, the N blocks, the final norm, then the output rows.
    /// - Precondition: `layout.text` holds the chunk's pooled text rows and `x` its X rows.
    func run() {
        let d = config.projDim
        let queryCount = chunk.queries.count
        let q = buffer(layout.query)
        let initial = buffer(layout.normed)
        if let fixedQuery, fixedQuery.isFilled {
            fixedQuery.copyQuery(into: initial)
        } else {
            pool.gemm(GemmCall(
                x: buffer(layout.text), ldx: config.txtLatentDim, weight: matrix(weights.text, rows: chunk.samples.count),
                inputs: config.txtLatentDim, outputs: d, bias: nil, y: initial, ldy: d,
                rows: 0..<chunk.samples.count, columns: 0..<d))
            fixedQuery?.storeQuery(from: initial)
        }
        for (index, query) in chunk.queries.enumerated() {
            (q + index * d).update(from: initial + query.sample * d, count: d)
        }
        for (index, block) in weights.blocks.enumerated() {
            runBlock(block, index: index)
        }
        let eps = Float(config.layerNormEps)
        if let finalNorm = weights.finalNorm {
            forRows(queryCount) { rows in
                fk_layer_norm(q + rows.lowerBound * d, d, q + rows.lowerBound * d, d, rows.count, d,
                              vector(finalNorm.weight), vector(finalNorm.bias), eps)
            }
        }
        for (index, query) in chunk.queries.enumerated() {
            let row = chunk.samples[query.sample] * sink.stepsPerSample + query.step
            (sink.output + row * d).update(from: q + index * d, count: d)
        }
    }

    /// One fusion block over every query row.
    private func runBlock(_ block: BlockWeights, index: Int) {
        let d = config.projDim
        let ffn = config.ffnDim
        let rows = chunk.queries.count
        let eps = Float(config.layerNormEps)
        let q = buffer(layout.query)
        let normed = buffer(layout.normed)
        let attended = buffer(layout.attended)
        let hidden = buffer(layout.hidden)

        // Attention input: LN1(q) before the block (pre-norm) or q itself (post-norm).
        let attentionInput: UnsafeMutablePointer<Float>
        if config.normFirst {
            forRows(rows) { r in
                fk_layer_norm(q + r.lowerBound * d, d, normed + r.lowerBound * d, d, r.count, d,
                              vector(block.norm1.weight), vector(block.norm1.bias), eps)
            }
            attentionInput = normed
        } else {
            attentionInput = q
        }
        attend(block, index: index, input: attentionInput, into: attended)

        let ffnInput: UnsafeMutablePointer<Float>
        if config.normFirst {
            // q = q + attn; x = LN2(q)
            forRows(rows) { r in
                let base = r.lowerBound * d
                fk_add(q + base, attended + base, q + base, r.count * d)
                fk_layer_norm(q + base, d, normed + base, d, r.count, d,
                              vector(block.norm2.weight), vector(block.norm2.bias), eps)
            }
            ffnInput = normed
        } else {
            // q = LN1(q + attn)
            forRows(rows) { r in
                let base = r.lowerBound * d
                fk_add(q + base, attended + base, q + base, r.count * d)
                fk_layer_norm(q + base, d, q + base, d, r.count, d,
                              vector(block.norm1.weight), vector(block.norm1.bias), eps)
            }
            ffnInput = q
        }
        pool.gemm(GemmCall(
            x: ffnInput, ldx: d, weight: matrix(block.expand, rows: rows), inputs: d, outputs: ffn,
            bias: vector(block.expandBias), activation: config.activation.kernelActivation,
            y: hidden, ldy: ffn, rows: 0..<rows, columns: 0..<ffn))
        pool.gemm(GemmCall(
            x: hidden, ldx: ffn, weight: matrix(block.contract, rows: rows), inputs: ffn, outputs: d,
            bias: vector(block.contractBias), y: attended, ldy: d, rows: 0..<rows, columns: 0..<d))
        forRows(rows) { r in
            let base = r.lowerBound * d
            fk_add(q + base, attended + base, q + base, r.count * d)
            if !config.normFirst {
                // q = LN2(q + FFN(q))
                fk_layer_norm(q + base, d, q + base, d, r.count, d,
                              vector(block.norm2.weight), vector(block.norm2.bias), eps)
            }
        }
    }

    /// `attn(x)` for every query row, written to `output` (rows × d): plan A's (and B′'s) query
    /// projection, absorbed key vectors, chunked attention and absorbed value projection, or plan C's
    /// (``attendFormingKeysValues(_:index:input:into:)``); then out_proj.
    private func attend(
        _ block: BlockWeights, index: Int, input: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
    ) {
        let d = config.projDim
        let rows = chunk.queries.count
        let headOutputs = buffer(layout.headOutputs)
        if formsKeysValues {
            attendFormingKeysValues(block, index: index, input: input, into: headOutputs)
        } else {
            attendAbsorbingKeysValues(block, index: index, input: input, into: headOutputs)
        }
        pool.gemm(GemmCall(
            x: headOutputs, ldx: d, weight: matrix(block.output, rows: rows), inputs: d, outputs: d,
            bias: vector(block.outputBias), y: output, ldy: d, rows: 0..<rows, columns: 0..<d))
    }

    /// In per-step mode every query of a sample enters the first block with the same input row
    /// (q₀, or LN1(q₀)): `compute(rows, count)` then runs on one row per sample (gathered into
    /// `gather`) and its `width`-float result rows in `result` are copied to the sample's other
    /// queries — the same bits, as GEMM rows are independent. Returns false, doing nothing, where
    /// that does not apply (another block, or one query per sample).
    private func computeOncePerSample(
        index: Int, input: UnsafePointer<Float>, gather: UnsafeMutablePointer<Float>,
        result: UnsafeMutablePointer<Float>, width: Int, _ compute: (UnsafePointer<Float>, Int) -> Void
    ) -> Bool {
        let d = config.projDim
        guard index == 0 && chunk.queries.count > chunk.samples.count else { return false }
        let firstQuery = chunk.queries.indices.filter { $0 == 0 || chunk.queries[$0 - 1].sample != chunk.queries[$0].sample }
        for (local, q) in firstQuery.enumerated() {
            (gather + local * d).update(from: input + q * d, count: d)
        }
        compute(gather, chunk.samples.count)
        // Descending: row q is written after every row above it was read (a query's sample index ≤ q).
        for q in chunk.queries.indices.reversed() where q != chunk.queries[q].sample {
            (result + q * width).update(from: result + chunk.queries[q].sample * width, count: width)
        }
        return true
    }

    /// Plan C's attention: K and V of every token of the chunk, the scaled queries `Q_h/√dh`, then per
    /// head scores over K_h and sums over V_h (head size d/H), concatenated into `output` (rows × d).
    private func attendFormingKeysValues(
        _ block: BlockWeights, index: Int, input: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
    ) {
        let d = config.projDim
        let heads = config.nHeads
        let rows = chunk.queries.count
        let tokens = chunk.totalTokens
        let keys = buffer(layout.keys)
        let values = buffer(layout.values)
        let queries = buffer(layout.projectedQuery)
        let keyValue = matrices([block.key, block.value], rows: tokens)
        pool.gemm([
            GemmCall(x: x, ldx: d, weight: keyValue[0], inputs: d, outputs: d, bias: vector(block.keyBias),
                     y: keys, ldy: d, rows: 0..<tokens, columns: 0..<d),
            GemmCall(x: x, ldx: d, weight: keyValue[1], inputs: d, outputs: d, bias: vector(block.valueBias),
                     y: values, ldy: d, rows: 0..<tokens, columns: 0..<d),
        ])
        if !computeOncePerSample(
            index: index, input: input, gather: output, result: queries, width: d,
            { projectQuery(block, input: $0, rows: $1, into: queries) })
        {
            projectQuery(block, input: input, rows: rows, into: queries)
        }
        // The attention scale on the query side: Q_h·K_hᵀ/√dh = K_h·fl(Q_h/√dh) up to one rounding.
        let scale = Float((1.0 / Double(d / heads)).squareRoot())
        forRows(rows) { r in
            for i in (r.lowerBound * d)..<(r.upperBound * d) {
                queries[i] *= scale
            }
        }
        let operands = AttentionOperands.formed(
            keys: chunk.firstRow.map { UnsafePointer(keys + $0 * d) },
            values: chunk.firstRow.map { UnsafePointer(values + $0 * d) }, queries: queries, output: output)
        for group in groups {
            attendGroup(group, block: index, operands: operands)
        }
    }

    /// Plans A and B′: the query projection, the absorbed key vectors `r_h`, chunked attention over X
    /// (or, for B′, the raw images) and the absorbed value projection, into `output` (rows × d).
    private func attendAbsorbingKeysValues(
        _ block: BlockWeights, index: Int, input: UnsafeMutablePointer<Float>, into headOutputs: UnsafeMutablePointer<Float>
    ) {
        let d = config.projDim
        let heads = config.nHeads
        let dh = d / heads
        let rows = chunk.queries.count
        let projectedQuery = buffer(layout.projectedQuery)
        let keyVectors = buffer(layout.keyVectors)
        let headSums = buffer(layout.headSums)

        if index == 0, let fixedQuery, fixedQuery.isFilled {
            // The first block's input is q₀ (or LN1(q₀)): its key vectors are the stored ones.
            fixedQuery.copyKeyVectors(into: keyVectors)
        } else if computeOncePerSample(
            index: index, input: input, gather: headOutputs, result: keyVectors, width: heads * d,
            { projectKeyVectors(block, input: $0, rows: $1, projectedQuery: projectedQuery, into: keyVectors) })
        {
            // Per-step mode's first block: computed once per sample.
        } else {
            projectKeyVectors(block, input: input, rows: rows, projectedQuery: projectedQuery, into: keyVectors)
            if index == 0 { fixedQuery?.storeKeyVectors(from: keyVectors) }
        }
        // The chunk's plan-B′ queries come first (none without image rows), its plan-A queries after.
        let absorbed = imageRows == nil ? 0..<0 : chunk.absorbedQueries
        if let imageRows, !absorbed.isEmpty {
            // Plan B′: u_h = Wvᵀ·r_h, attention over the raw image rows, then Wv·z_h (= a_h·X).
            let img = config.imgLatentDim
            let imageKeys = buffer(layout.imageKeys)
            let imageSums = buffer(layout.imageSums)
            let queryHeads = (absorbed.lowerBound * heads)..<(absorbed.upperBound * heads)
            pool.gemm(GemmCall(
                x: keyVectors, ldx: d, weight: matrix(weights.visionTransposed, rows: queryHeads.count), inputs: d,
                outputs: img, bias: nil, y: imageKeys, ldy: img, rows: queryHeads, columns: 0..<img))
            let space = TokenSpace(sampleRows: imageRows, stride: img, dim: img)
            for group in groups where group.upperBound <= absorbed.upperBound {
                attendGroup(group, block: index, operands: .shared(space: space, keyVectors: imageKeys, headSums: imageSums))
            }
            pool.gemm(GemmCall(
                x: imageSums, ldx: img, weight: matrix(weights.vision, rows: queryHeads.count), inputs: img, outputs: d,
                bias: nil, y: headSums, ldy: d, rows: queryHeads, columns: 0..<d))
        }
        if absorbed.upperBound < rows {
            // Plan A: attention over the X rows (plan-B′ samples' rows are never read).
            let space = TokenSpace(
                sampleRows: sampleRows ?? chunk.firstRow.map { x + $0 * d }, stride: d, dim: d)
            for group in groups where group.lowerBound >= absorbed.upperBound {
                attendGroup(group, block: index, operands: .shared(space: space, keyVectors: keyVectors, headSums: headSums))
            }
        }
        let value = matrix(block.value, rows: rows)
        pool.gemm((0..<heads).map { h in
            GemmCall(
                x: headSums + h * d, ldx: heads * d, weight: value, inputs: d, outputs: d,
                bias: vector(block.valueBias), y: headOutputs, ldy: d, rows: 0..<rows,
                columns: (h * dh)..<((h + 1) * dh))
        })
    }

    /// `Q = Wq·x + bq` for `rows` input rows (rows × d) into `query`.
    private func projectQuery(
        _ block: BlockWeights, input: UnsafePointer<Float>, rows: Int, into query: UnsafeMutablePointer<Float>
    ) {
        let d = config.projDim
        pool.gemm(GemmCall(
            x: input, ldx: d, weight: matrix(block.query, rows: rows), inputs: d, outputs: d,
            bias: vector(block.queryBias), y: query, ldy: d, rows: 0..<rows, columns: 0..<d))
    }

    /// ``projectQuery(_:input:rows:into:)`` into `projectedQuery`, then the absorbed key vectors
    /// `r_h = (Wk_h/√dh)ᵀ·Q_h`, (rows × H × d) into `keyVectors`.
    private func projectKeyVectors(
        _ block: BlockWeights, input: UnsafePointer<Float>, rows: Int, projectedQuery: UnsafeMutablePointer<Float>,
        into keyVectors: UnsafeMutablePointer<Float>
    ) {
        let d = config.projDim
        let heads = config.nHeads
        let dh = d / heads
        projectQuery(block, input: input, rows: rows, into: projectedQuery)
        let keyHeads = matrices(block.keyHeads, rows: rows)
        pool.gemm((0..<heads).map { h in
            GemmCall(
                x: projectedQuery + h * dh, ldx: d, weight: keyHeads[h], inputs: dh, outputs: d,
                bias: nil, y: keyVectors + h * d, ldy: heads * d, rows: 0..<rows, columns: 0..<d)
        })
    }

    /// Runs `body` over `count` rows cut into ranges of at most 64, on the pool.
    func forRows(_ count: Int, _ body: (Range<Int>) -> Void) {
        let perTask = 64
        pool.run(tasks: ceilDiv(count, perTask)) { task, _ in
            body((task * perTask)..<min(count, (task + 1) * perTask))
        }
    }
}

/// q₀ = Wt·text and the first block's key vectors r_h (H × d) of one fixed text token, for a pass with
/// one query (see ``QueryPass/fixedQuery``). Filled by the first pass that uses it; both are stored
/// together, so a filled cache always holds both.
final class FixedQueryCache {
    private var query: [Float]
    private var keyVectors: [Float]
    private var hasQuery = false
    private(set) var isFilled = false

    /// - Parameters: d (proj_dim) and H (n_heads) of the model.
    init(d: Int, heads: Int) {
        query = [Float](repeating: 0, count: d)
        keyVectors = [Float](repeating: 0, count: heads * d)
    }

    func storeQuery(from source: UnsafePointer<Float>) {
        query.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: source, count: $0.count) }
        hasQuery = true
    }

    func storeKeyVectors(from source: UnsafePointer<Float>) {
        keyVectors.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: source, count: $0.count) }
        isFilled = hasQuery
    }

    func copyQuery(into target: UnsafeMutablePointer<Float>) {
        query.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
    }

    func copyKeyVectors(into target: UnsafeMutablePointer<Float>) {
        keyVectors.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
    }
}

/// Seconds spent packing weights during one forward pass.
final class PackingClock {
    var seconds: Double = 0
}

extension Activation {
    /// The FusionKernels activation that computes this one.
    var kernelActivation: fk_activation {
        switch self {
        case .gelu: return FK_ACT_GELU
        case .geluTanh: return FK_ACT_GELU_TANH
        case .relu: return FK_ACT_RELU
        }
    }
}
