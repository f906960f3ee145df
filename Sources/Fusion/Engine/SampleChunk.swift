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

/// Samples processed together (not necessarily consecutive): their X rows share one scratch buffer
/// and their queries go through the block GEMMs together. In plain mode a chunk may hold plan-B′
/// samples (the first ``absorbedSamples``, whose queries come first) and plan-A samples (the rest):
/// the shared per-query GEMMs then read every weight once for both. A chunk never changes any
/// sample's bits; it only bounds the memory a forward pass needs.
struct SampleChunk {
    /// Global sample indices: increasing, or (a mixed chunk) the plan-B′ samples increasing, then the
    /// plan-A samples increasing.
    let samples: [Int]
    /// How many of the first `samples` run plan B′ (attention over their raw image rows; their X rows
    /// are never computed); the others run the chunk's own plan.
    var absorbedSamples = 0
    /// The queries of the plan-B′ samples: 0 ..< (their query count).
    var absorbedQueries: Range<Int> { 0..<queries.prefix { $0.sample < absorbedSamples }.count }
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

    /// A chunk of plan-B′ samples `absorbed` followed by plan-A samples `formed` (plain mode).
    init(absorbed: [Int], formed: [Int], imageLengths: [Int], tokensPerFrame: Int) {
        let members = absorbed + formed
        self.init(samples: members, imageLengths: members.map { imageLengths[$0] }, tokensPerFrame: tokensPerFrame,
                  perStep: false)
        absorbedSamples = absorbed.count
    }

    /// Cuts a plain batch whose samples run plans B′ (`absorbed`) and A into chunks holding both, each
    /// within every budget of both plans: B′ samples by `absorbedTokenBudget` image tokens and
    /// `absorbedQueryBudget` queries, A samples by `tokenBudget` X rows; `queryBudget` in all. Samples
    /// are taken in increasing index order.
    static func splitMixed(
        absorbed: Set<Int>, samples: [Int], imageLengths: [Int], tokensPerFrame: Int, tokenBudget: Int,
        absorbedTokenBudget: Int, queryBudget: Int, absorbedQueryBudget: Int
    ) -> [SampleChunk] {
        var chunks: [SampleChunk] = []
        var current: (absorbed: [Int], formed: [Int]) = ([], [])
        var xTokens = 0
        var imageTokens = 0
        for b in samples {
            let tokens = imageLengths[b] * tokensPerFrame
            let isAbsorbed = absorbed.contains(b)
            let count = current.absorbed.count + current.formed.count
            let fits = isAbsorbed
                ? imageTokens + tokens <= absorbedTokenBudget && current.absorbed.count + 1 <= absorbedQueryBudget
                : xTokens + tokens <= tokenBudget
            if count > 0 && (!fits || count + 1 > queryBudget) {
                chunks.append(SampleChunk(absorbed: current.absorbed, formed: current.formed,
                                          imageLengths: imageLengths, tokensPerFrame: tokensPerFrame))
                current = ([], [])
                xTokens = 0
                imageTokens = 0
            }
            if isAbsorbed {
                current.absorbed.append(b)
                imageTokens += tokens
            } else {
                current.formed.append(b)
                xTokens += tokens
            }
        }
        if !current.absorbed.isEmpty || !current.formed.isEmpty {
            chunks.append(SampleChunk(absorbed: current.absorbed, formed: current.formed,
                                      imageLengths: imageLengths, tokensPerFrame: tokensPerFrame))
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
        attentionGroups(in: queries.indices, chunkBudget: chunkBudget)
    }

    /// ``attentionGroups(chunkBudget:)`` over the queries `range` only.
    func attentionGroups(in range: Range<Int>, chunkBudget: Int) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            var chunks = 0
            while end < range.upperBound && (end == start || chunks + queries[end].chunks <= chunkBudget) {
                chunks += queries[end].chunks
                end += 1
            }
            groups.append(start..<end)
            start = end
        }
        return groups
    }
}
