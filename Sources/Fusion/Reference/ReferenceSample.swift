/// One sample of the reference forward pass, following docs/model.md, "The forward pass", step by step.
///
/// Holds `q₀ = Wt·t` (step 2), `X = images·Wvᵀ` for the sample's valid tokens (step 3) and, per block,
/// `K = X·Wkᵀ + bk` and `V = X·Wvᵀ + bv`. K and V depend on X only (the blocks update Q only), so
/// they are formed once and ``run(validTokens:)`` can attend over any prefix of the tokens: every
/// token row is computed on its own, so a prefix gives bit-identical numbers to a sample that
/// only had those tokens.
struct ReferenceSample {
    let model: FusionModel
    /// q₀ = Wt·t, length d.
    let initialQuery: [Float]
    /// Per block, K as (tokens, d) row-major.
    let keys: [[Float]]
    /// Per block, V as (tokens, d) row-major.
    let values: [[Float]]
    /// Token rows available.
    let tokens: Int

    /// - Parameters:
    ///   - pooledText: the pooled text token t, txt_latent_dim elements.
    ///   - imageTokens: `tokens` image tokens, (tokens, img_latent_dim) row-major.
    init(model: FusionModel, pooledText: [Float], imageTokens: [Float], tokens: Int) {
        self.model = model
        self.tokens = tokens
        initialQuery = model.textProjection(pooledText)
        let projected = model.visionProjection.applyRows(imageTokens, rows: tokens)
        var keys: [[Float]] = []
        var values: [[Float]] = []
        for block in model.blocks {
            let kv = block.attention.keysAndValues(projected, tokens: tokens)
            keys.append(kv.keys)
            values.append(kv.values)
        }
        self.keys = keys
        self.values = values
    }

    /// Steps 4–6 over the first `validTokens` tokens.
    /// - Returns: the output vector (length d) and, per block, the attention weights (H, validTokens).
    /// - Precondition: 1 ≤ validTokens ≤ tokens.
    func run(validTokens: Int) -> (output: [Float], weights: [[Float]]) {
        precondition((1...tokens).contains(validTokens), "ReferenceSample.run: \(validTokens) of \(tokens) tokens")
        var q = initialQuery
        var weights: [[Float]] = []
        for (i, block) in model.blocks.enumerated() {
            let step = block(query: q, keys: keys[i], values: values[i], validTokens: validTokens)
            q = step.query
            weights.append(step.weights)
        }
        if let finalNorm = model.finalNorm {
            q = finalNorm(q)
        }
        return (q, weights)
    }
}
