/// Offsets (in floats) of the engine's scratch buffers inside one arena, sized for the largest
/// chunk of a forward pass, so that memory is allocated once and does not grow with B.
///
/// Sizes, with Q queries, S X rows, G attention-group tokens and C attention-group chunks:
/// text rows (samples × txt), X (S × d), the query state and four (Q × d) temporaries, R and Z
/// (Q × H × d), the FFN hidden layer (Q × ffn), and for attention p (G × H), m, l and scale
/// (C × H each) and the chunks' partial sums (C × H × d).
struct ScratchLayout {
    let text: Int
    let x: Int
    /// query: the query state; normed: LayerNorm output / projector result; projectedQuery: Q;
    /// headOutputs: O (heads concatenated); attended: attn(q) and FFN(x).
    let query: Int
    let normed: Int
    let projectedQuery: Int
    let headOutputs: Int
    let attended: Int
    let keyVectors: Int
    let headSums: Int
    let hidden: Int
    /// Plan B′ only (else empty): u_h = Wvᵀ·r_h and the image-space sums, (Q × H × img) each.
    let imageKeys: Int
    let imageSums: Int
    /// Plan C only (else empty): K and V of the chunk's tokens, (S × d) each.
    let keys: Int
    let values: Int
    let weights: Int
    let chunkMax: Int
    let chunkSum: Int
    let chunkScale: Int
    let partialSums: Int
    /// Floats in all.
    let total: Int

    /// - Parameters:
    ///   - imageSpace: plan B′ (attention over image rows: partial sums of img floats).
    ///   - keysValues: plan C (K and V rows of the tokens).
    init(
        config: FusionConfig, samples: Int, tokens: Int, queries: Int, groupTokens: Int, groupChunks: Int,
        imageSpace: Bool = false, keysValues: Bool = false
    ) {
        let d = config.projDim
        let heads = config.nHeads
        var next = 0
        func take(_ floats: Int) -> Int {
            defer { next += (floats + 15) / 16 * 16 }
            return next
        }
        text = take(samples * config.txtLatentDim)
        x = take(tokens * d)
        query = take(queries * d)
        normed = take(queries * d)
        projectedQuery = take(queries * d)
        headOutputs = take(queries * d)
        attended = take(queries * d)
        keyVectors = take(queries * heads * d)
        headSums = take(queries * heads * d)
        hidden = take(queries * config.ffnDim)
        let img = config.imgLatentDim
        imageKeys = take(imageSpace ? queries * heads * img : 0)
        imageSums = take(imageSpace ? queries * heads * img : 0)
        keys = take(keysValues ? tokens * d : 0)
        values = take(keysValues ? tokens * d : 0)
        weights = take(groupTokens * heads)
        chunkMax = take(groupChunks * heads)
        chunkSum = take(groupChunks * heads)
        chunkScale = take(groupChunks * heads)
        partialSums = take(groupChunks * heads * (imageSpace ? max(d, img) : d))
        total = next
    }
}
