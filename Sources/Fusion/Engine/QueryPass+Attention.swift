import FusionKernels

/// The heads of one attention kernel call: at most `FK_ATTN_MAX_HEADS` (16) at a time.
struct HeadGroup {
    /// First head and head count.
    let first: Int
    let count: Int

    /// H heads cut into groups of 16 (the last may be smaller).
    static func groups(heads: Int) -> [HeadGroup] {
        let size = Int(FK_ATTN_MAX_HEADS)
        return stride(from: 0, to: heads, by: size).map { HeadGroup(first: $0, count: min(size, heads - $0)) }
    }
}

/// The token rows attention runs over: plan A's X rows (dim d) or, for plan B′, the raw image rows
/// (dim img) read in place from the inputs.
struct TokenSpace {
    /// Per sample of the chunk (local index), its token 0; token t at + t·stride.
    let sampleRows: [UnsafePointer<Float>]
    let stride: Int
    /// Floats per token used.
    let dim: Int
}

/// What one block's attention runs over, per plan.
enum AttentionOperands {
    /// Plans A and B′: every head scores and sums the same token rows of `space` (dim floats each)
    /// with its own score vector (query q, head h at `keyVectors + (q·H + h)·dim`); `z_h` goes to
    /// `headSums + (q·H + h)·dim`.
    case shared(space: TokenSpace, keyVectors: UnsafeMutablePointer<Float>, headSums: UnsafeMutablePointer<Float>)
    /// Plan C: head h scores columns h·dh..<(h+1)·dh of the K rows and sums the same columns of the V
    /// rows (`keys`/`values`: per sample of the chunk, its token 0, row stride d) with the scaled
    /// query `queries + q·d + h·dh`; `o_h` goes to `output + q·d + h·dh` (heads concatenated).
    case formed(keys: [UnsafePointer<Float>], values: [UnsafePointer<Float>], queries: UnsafePointer<Float>,
                output: UnsafeMutablePointer<Float>)
}

extension QueryPass {
    /// Chunked attention for the queries `group` of one block over `operands` (see
    /// ``AttentionOperands``): fills each head's weighted sum and, when asked for, writes the weights
    /// `a_h[t]` into the attention maps of block `block`.
    ///
    /// Query q's tokens [0, S_q) are cut at multiples of ``attentionChunkTokens``; per chunk c,
    /// `fk_attn_chunk` gives the chunk-local softmax numerators p, their maximum m and sum l and the
    /// unnormalised weighted sum; `fk_attn_merge_scales` turns (m, l) of all chunks into per-chunk
    /// scales and `fk_attn_merge_sum` combines the partial sums. The chunk boundaries, and so the
    /// bits, depend only on S_q — never on threads, batch or mode. Parallel regions: all
    /// (query, chunk, head group) triples; then per query the scales (and maps) and the merge, the
    /// merge in a region of its own split by columns when there are few queries.
    func attendGroup(_ group: Range<Int>, block: Int, operands: AttentionOperands) {
        let heads = config.nHeads
        let headSize = config.projDim / heads
        // Floats per head of a partial or merged sum.
        let d: Int
        switch operands {
        case .shared(let space, _, _): d = space.dim
        case .formed: d = headSize
        }
        let queries = chunk.queries
        let headGroups = HeadGroup.groups(heads: heads)
        let weights = buffer(layout.weights)
        let chunkMax = buffer(layout.chunkMax)
        let chunkSum = buffer(layout.chunkSum)
        let chunkScale = buffer(layout.chunkScale)
        let partialSums = buffer(layout.partialSums)

        // Per query of the group: its first token row in `weights` and first chunk in the chunk arrays.
        var tokenOffset: [Int] = []
        var chunkOffset: [Int] = []
        var tasks: [(query: Int, chunk: Int, heads: HeadGroup)] = []
        var tokens = 0
        var chunks = 0
        for q in group {
            tokenOffset.append(tokens)
            chunkOffset.append(chunks)
            for c in 0..<queries[q].chunks {
                for headGroup in headGroups {
                    tasks.append((q, c, headGroup))
                }
            }
            tokens += queries[q].tokens
            chunks += queries[q].chunks
        }
        let first = group.lowerBound

        // 1. Every chunk of every query: p, m, l and the partial sum.
        tasks.withUnsafeBufferPointer { tasks in
            pool.run(tasks: tasks.count) { task, _ in
                let (q, c, headGroup) = tasks[task]
                let query = queries[q]
                let local = q - first
                let chunkCount = query.chunks
                let tokenBegin = c * attentionChunkTokens
                let tokenEnd = min(query.tokens, tokenBegin + attentionChunkTokens)
                let stats = (chunkOffset[local] * heads + chunkCount * headGroup.first) + c * headGroup.count
                switch operands {
                case .shared(let space, let keyVectors, _):
                    fk_attn_chunk(
                        space.sampleRows[query.sample], space.stride, tokenBegin, tokenEnd, d,
                        keyVectors + (q * heads + headGroup.first) * d, d, headGroup.count,
                        weights + tokenOffset[local] * heads + headGroup.first, heads,
                        chunkMax + stats, chunkSum + stats,
                        partialSums + ((chunkOffset[local] + c) * heads + headGroup.first) * d, d)
                case .formed(let keys, let values, let queries, _):
                    let first = headGroup.first * headSize
                    fk_attn_chunk_kv(
                        keys[query.sample] + first, config.projDim, headSize, values[query.sample] + first,
                        config.projDim, headSize, tokenBegin, tokenEnd, d, queries + q * config.projDim + first, d,
                        headGroup.count, weights + tokenOffset[local] * heads + headGroup.first, heads,
                        chunkMax + stats, chunkSum + stats,
                        partialSums + ((chunkOffset[local] + c) * heads + headGroup.first) * d, d)
                }
            }
        }

        // 2. Per query: the chunk scales and, when asked for, the attention weights; then
        // 3. z_h = Σ_c scale[c][h]·partial[c][h]. With few queries the merge is split by columns in a
        // region of its own; otherwise each query's task does both.
        let wanted = pool.threads > 1 ? 4 * pool.threads : 1
        var pieces = 1
        while group.count * pieces < wanted && d / (pieces * 2) >= 32 {
            pieces *= 2
        }
        let pieceWidth = ceilDiv(ceilDiv(d, pieces), 16) * 16
        let pieceCount = ceilDiv(d, pieceWidth)
        let attentionMaps = sink.attention
        let tokenAxis = sink.tokenAxis
        func scales(_ local: Int) {
            let q = first + local
            let query = queries[q]
            let chunkCount = query.chunks
            for headGroup in headGroups {
                let stats = chunkOffset[local] * heads + chunkCount * headGroup.first
                fk_attn_merge_scales(
                    chunkCount, headGroup.count, chunkMax + stats, chunkSum + stats, chunkScale + stats)
                guard let attentionMaps else { continue }
                let sample = chunk.samples[query.sample]
                let mapBase = ((sample * sink.stepsPerSample + query.step) * config.nBlocks + block) * heads * tokenAxis
                for h in 0..<headGroup.count {
                    let head = headGroup.first + h
                    let row = attentionMaps + mapBase + head * tokenAxis
                    let p = weights + tokenOffset[local] * heads + head
                    for t in 0..<query.tokens {
                        row[t] = p[t * heads] * chunkScale[stats + (t / attentionChunkTokens) * headGroup.count + h]
                    }
                }
            }
        }
        func merge(_ local: Int, _ columns: Range<Int>) {
            let q = first + local
            let chunkCount = queries[q].chunks
            for headGroup in headGroups {
                let stats = chunkOffset[local] * heads + chunkCount * headGroup.first
                let sums: UnsafeMutablePointer<Float>
                switch operands {
                case .shared(_, _, let headSums): sums = headSums + (q * heads + headGroup.first) * d
                case .formed(_, _, _, let output): sums = output + q * config.projDim + headGroup.first * d
                }
                fk_attn_merge_sum(
                    chunkCount, headGroup.count, d, chunkScale + stats,
                    partialSums + (chunkOffset[local] * heads + headGroup.first) * d, heads * d, d,
                    sums, d, columns.lowerBound, columns.upperBound)
            }
        }
        if pieceCount == 1 {
            pool.run(tasks: group.count) { local, _ in
                scales(local)
                merge(local, 0..<d)
            }
        } else {
            pool.run(tasks: group.count) { local, _ in scales(local) }
            pool.run(tasks: group.count * pieceCount) { task, _ in
                let piece = task % pieceCount
                merge(task / pieceCount, (piece * pieceWidth)..<min(d, (piece + 1) * pieceWidth))
            }
        }
    }
}
