/// The fixed attention chunk: a sample's valid tokens are cut every `attentionChunkTokens` tokens
/// counted from token 0, whatever the batch, the mode or the thread count, so that a prefix of a
/// history is processed with exactly the same chunks (and bits) as the history itself.
let attentionChunkTokens = 64

/// One query of the engine: one output row, the fusion of the first `tokens` tokens of a sample.
struct EngineQuery {
    /// The sample's index inside its ``SampleChunk`` (0 ..< samples.count).
    let sample: Int
    /// The step t in per-step mode (the output row inside the sample), 0 in plain mode.
    let step: Int
    /// Tokens attended: image_lengths[b]·P in plain mode, (t+1)·P in per-step mode.
    let tokens: Int
    /// The first row of the sample's tokens in the chunk's X buffer.
    let firstRow: Int

    /// The number of fixed attention chunks over `tokens`.
    var chunks: Int { ceilDiv(tokens, attentionChunkTokens) }
}

/// Consecutive samples processed together: their X rows share one scratch buffer and their
/// queries go through the block GEMMs together. A chunk never changes any sample's bits; it only
/// bounds the memory a forward pass needs.
struct SampleChunk {
    /// Global sample indices.
    let samples: Range<Int>
    /// Per sample (local index), its valid tokens S_b = image_lengths[b]·P.
    let tokens: [Int]
    /// Per sample, the first row of its tokens in the chunk's X buffer (prefix sums of `tokens`).
    let firstRow: [Int]
    /// Σ tokens.
    let totalTokens: Int
    /// The queries, sample-major, steps increasing.
    let queries: [EngineQuery]

    /// Cuts a batch into chunks of consecutive samples: a chunk grows while its X rows stay within
    /// `tokenBudget` and its queries within `queryBudget`; a sample that alone exceeds a budget
    /// gets a chunk of its own.
    ///
    /// - Parameters:
    ///   - imageLengths: valid frames per sample (1…T).
    ///   - tokensPerFrame: P.
    ///   - perStep: one query per valid frame instead of one per sample.
    static func split(
        imageLengths: [Int], tokensPerFrame: Int, perStep: Bool, tokenBudget: Int, queryBudget: Int
    ) -> [SampleChunk] {
        var chunks: [SampleChunk] = []
        var start = 0
        while start < imageLengths.count {
            var end = start
            var tokens = 0
            var queries = 0
            while end < imageLengths.count {
                let sampleTokens = imageLengths[end] * tokensPerFrame
                let sampleQueries = perStep ? imageLengths[end] : 1
                if end > start && (tokens + sampleTokens > tokenBudget || queries + sampleQueries > queryBudget) {
                    break
                }
                tokens += sampleTokens
                queries += sampleQueries
                end += 1
            }
            chunks.append(SampleChunk(
                samples: start..<end, imageLengths: Array(imageLengths[start..<end]),
                tokensPerFrame: tokensPerFrame, perStep: perStep))
            start = end
        }
        return chunks
    }

    /// The chunk of `samples` with these valid frame counts.
    init(samples: Range<Int>, imageLengths: [Int], tokensPerFrame: Int, perStep: Bool) {
        precondition(imageLengths.count == samples.count, "SampleChunk: \(imageLengths.count) lengths for samples \(samples)")
        self.samples = samples
        tokens = imageLengths.map { $0 * tokensPerFrame }
        var firstRow: [Int] = []
        var total = 0
        var queries: [EngineQuery] = []
        for (local, length) in imageLengths.enumerated() {
            firstRow.append(total)
            if perStep {
                for step in 0..<length {
                    queries.append(EngineQuery(
                        sample: local, step: step, tokens: (step + 1) * tokensPerFrame, firstRow: total))
                }
            } else {
                queries.append(EngineQuery(
                    sample: local, step: 0, tokens: length * tokensPerFrame, firstRow: total))
            }
            total += length * tokensPerFrame
        }
        self.firstRow = firstRow
        totalTokens = total
        self.queries = queries
    }

    /// Cuts `queries` into consecutive groups whose attention scratch (one partial weighted sum of
    /// heads·d floats per attention chunk) stays within `chunkBudget` attention chunks; a query
    /// that alone exceeds it forms its own group.
    func attentionGroups(chunkBudget: Int) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var start = 0
        while start < queries.count {
            var end = start
            var chunks = 0
            while end < queries.count && (end == start || chunks + queries[end].chunks <= chunkBudget) {
                chunks += queries[end].chunks
                end += 1
            }
            groups.append(start..<end)
            start = end
        }
        return groups
    }
}
