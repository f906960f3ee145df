/// One fusion block (`fusor.blocks.{i}`): cross-attention from the query to the image tokens,
/// then a feed-forward net, each with a residual and a LayerNorm.
///
/// Post-norm (`norm_first` false): `q = LN1(q + attn(q)); q = LN2(q + FFN(q))`.
/// Pre-norm (`norm_first` true): `q = q + attn(LN1(q)); q = q + FFN(LN2(q))`. X is never normalised.
public struct FusionBlock: Sendable, Equatable {
    /// `attn`.
    public let attention: MultiheadAttention
    /// `norm1`.
    public let norm1: LayerNorm
    /// `ffn`.
    public let feedForward: FeedForward
    /// `norm2`.
    public let norm2: LayerNorm
    /// Pre-norm when true, post-norm when false.
    public let normFirst: Bool

    /// Assembles a block from its layers (shapes were checked when the layers were built).
    /// - Precondition: the layers share d (traps naming the sizes otherwise).
    public init(
        attention: MultiheadAttention, norm1: LayerNorm, feedForward: FeedForward, norm2: LayerNorm,
        normFirst: Bool
    ) {
        let d = attention.embedDim
        precondition(
            norm1.weight.count == d && norm2.weight.count == d && feedForward.expand.inFeatures == d,
            "FusionBlock: attention d = \(d), norm1 \(norm1.weight.count), norm2 \(norm2.weight.count), ffn input \(feedForward.expand.inFeatures)")
        self.attention = attention
        self.norm1 = norm1
        self.feedForward = feedForward
        self.norm2 = norm2
        self.normFirst = normFirst
    }

    /// Updates the query q (length d) against this block's keys and values (see
    /// ``MultiheadAttention/keysAndValues(_:tokens:)``) over the first `validTokens` tokens.
    /// - Returns: the new query and the attention weights, (H, validTokens) row-major.
    public func callAsFunction(query q: [Float], keys: [Float], values: [Float], validTokens: Int)
        -> (query: [Float], weights: [Float])
    {
        if normFirst {
            let attended = attention.attend(query: norm1(q), keys: keys, values: values, validTokens: validTokens)
            let afterAttention = add(q, attended.output)
            return (add(afterAttention, feedForward(norm2(afterAttention))), attended.weights)
        }
        let attended = attention.attend(query: q, keys: keys, values: values, validTokens: validTokens)
        let afterAttention = norm1(add(q, attended.output))
        return (norm2(add(afterAttention, feedForward(afterAttention))), attended.weights)
    }
}

/// Element-wise `a + b`. - Precondition: equal lengths.
func add(_ a: [Float], _ b: [Float]) -> [Float] {
    precondition(a.count == b.count, "add: lengths \(a.count) and \(b.count) differ")
    return zip(a, b).map { $0 + $1 }
}
