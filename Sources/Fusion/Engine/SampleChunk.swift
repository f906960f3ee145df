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

/// Samples processed together (in increasing order, not necessarily consecutive: a batch whose
/// samples run different plans is cut per plan): their X rows share one scratch buffer and their
/// queries go through the block GEMMs together. A chunk never changes any sample's bits; it only
/// bounds the memory a forward pass needs.
struct SampleChunk {
    /// Global sample indices, increasing.
    let samples: [Int]
    /// Per sample (local index), its valid tokens S_b = image_lengths[b]·P.
    let tokens: [Int]
    /// Per sample, the first row of its tokens in the chunk's X buffer (prefix sums of `tokens`).
    let firstRow: [Int]
    /// Σ tokens.
    let totalTokens: Int
    /// The queries, sample-major, steps increasing.
    let queries: [EngineQuery]

    /// Cuts the samples `samples` (increasing global indices) of a batch into chunks of samples
    /// that follow each other in that list: a chunk grows while its X rows stay within `tokenBudget`
    /// and its queries within `queryBudget`; a sample that alone exceeds a budget gets a chunk of
    /// its own.
    ///
    /// - Parameters:
    ///   - samples: the samples to cut (all of a batch, or those of one plan).
    ///   - imageLengths: valid frames (1…T) of every sample of the batch, indexed globally.
    ///   - tokensPerFrame: P.
    ///   - perStep: one query per valid frame instead of one per sample.
    static func split(
        samples: [Int], imageLengths: [Int], tokensPerFrame: Int, perStep: Bool, tokenBudget: Int, queryBudget: Int
    ) -> [SampleChunk] {
        var chunks: [SampleChunk] = []
        var start = 0
        while start < samples.count {
            var end = start
            var tokens = 0
            var queries = 0
            while end < samples.count {
                let length = imageLengths[samples[end]]
                let sampleTokens = length * tokensPerFrame
                let sampleQueries = perStep ? length : 1
                if end > start && (tokens + sampleTokens > tokenBudget || queries + sampleQueries > queryBudget) {
                    break
                }
                tokens += sampleTokens
                queries += sampleQueries
                end += 1
            }
            let members = Array(samples[start..<end])
            chunks.append(SampleChunk(
                samples: members, imageLengths: members.map { imageLengths[$0] },
                tokensPerFrame: tokensPerFrame, perStep: perStep))
            start = end
        }
        return chunks
    }

    /// The runs of consecutive global indices in `samples` (for releasing input pages per run).
    var sampleRuns: [Range<Int>] {
        var runs: [Range<Int>] = []
        for b in samples {
            if let last = runs.last, last.upperBound == b {
                runs[runs.count - 1] = last.lowerBound..<(b + 1)
            } else {
                runs.append(b..<(b + 1))
            }
        }
        return runs
    }

    /// The chunk of `samples` (increasing global indices) with these valid frame counts.
    init(samples: [Int], imageLengths: [Int], tokensPerFrame: Int, perStep: Bool) {
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
