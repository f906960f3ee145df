/// Multi-head attention of one query over a set of tokens, mirroring
/// `torch.nn.MultiheadAttention(d, H, bias=attn_bias, batch_first=True)` at inference (no dropout),
/// called with `need_weights=True, average_attn_weights=False` and a key padding mask.
///
/// With dh = d/H and the row-thirds Wq, Wk, Wv of `in_proj_weight` (3d, d):
/// `Q = Wq·q + bq`, `K = X·Wkᵀ + bk`, `V = X·Wvᵀ + bv`; per head h
/// `a_h = softmax((Q_h·√(1/dh))·K_hᵀ)` over the valid tokens, `o_h = a_h·V_h`;
/// the heads are concatenated and `out = Wo·o + bo` (`out_proj`).
public struct MultiheadAttention: Sendable, Equatable {
    /// `in_proj_weight`, shape (3d, d): rows 0..<d are Wq, d..<2d Wk, 2d..<3d Wv.
    public let inProjWeight: Tensor
    /// `in_proj_bias`, shape (3d,), or nil when `attn_bias` is false.
    public let inProjBias: Tensor?
    /// `out_proj`, (d, d), with a bias exactly when `inProjBias` has one.
    public let outProj: Linear
    /// H, the number of heads.
    public let heads: Int

    /// - Precondition: shapes as documented on the properties and d divisible by `heads`.
    public init(inProjWeight: Tensor, inProjBias: Tensor?, outProj: Linear, heads: Int) {
        let d = outProj.outFeatures
        precondition(
            inProjWeight.shape == [3 * d, d] && (inProjBias == nil || inProjBias!.shape == [3 * d])
                && outProj.inFeatures == d && heads >= 1 && d % heads == 0,
            "MultiheadAttention: in_proj_weight \(inProjWeight.shapeDescription), in_proj_bias \(inProjBias?.shapeDescription ?? "none"), out_proj \(outProj.weight.shapeDescription), heads \(heads)")
        self.inProjWeight = inProjWeight
        self.inProjBias = inProjBias
        self.outProj = outProj
        self.heads = heads
        self.queryProjection = Self.projection(0, weight: inProjWeight, bias: inProjBias, d: d)
        self.keyProjection = Self.projection(1, weight: inProjWeight, bias: inProjBias, d: d)
        self.valueProjection = Self.projection(2, weight: inProjWeight, bias: inProjBias, d: d)
    }

    /// Wq, Wk, Wv with their biases, cut from the input projection once.
    let queryProjection: Linear
    let keyProjection: Linear
    let valueProjection: Linear

    /// d, the embedding size.
    public var embedDim: Int { outProj.outFeatures }
    /// dh = d/H.
    public var headDim: Int { embedDim / heads }

    /// One third of the input projection as a `Linear` sharing its storage (no copy): part 0 = query,
    /// 1 = key, 2 = value.
    static func projection(_ part: Int, weight inProjWeight: Tensor, bias inProjBias: Tensor?, d: Int) -> Linear {
        let rows = (part * d)..<((part + 1) * d)
        let weight = inProjWeight.rows(rows)
        let bias = inProjBias.map { $0.rows(rows) }
        return Linear(weight: weight, bias: bias)
    }

    /// Keys and values of `tokens` rows of X (row-major (tokens, d)): `K = X·Wkᵀ + bk`, `V = X·Wvᵀ + bv`,
    /// each (tokens, d) row-major. Row j depends only on row j of X.
    /// - Complexity: O(tokens·d²).
    public func keysAndValues(_ x: [Float], tokens: Int) -> (keys: [Float], values: [Float]) {
        (keyProjection.applyRows(x, rows: tokens), valueProjection.applyRows(x, rows: tokens))
    }

    /// Attends with one query vector q (length d) over the first `validTokens` rows of K and V.
    ///
    /// - Returns: `output`, `Wo·concat_h(a_h·V_h) + bo` (length d), and `weights`, row-major
    ///   (H, validTokens): `weights[h·validTokens + j]` is a_h[j]; each row sums to 1.
    /// - Precondition: 1 ≤ validTokens ≤ rows of K and V. - Complexity: O(d² + validTokens·d).
    public func attend(query q: [Float], keys: [Float], values: [Float], validTokens: Int)
        -> (output: [Float], weights: [Float])
    {
        let d = embedDim
        let dh = headDim
        precondition(
            q.count == d && validTokens >= 1 && keys.count >= validTokens * d && values.count >= validTokens * d,
            "MultiheadAttention.attend: query \(q.count), \(validTokens) valid tokens, keys \(keys.count), values \(values.count), d \(d)")
        let scale = Float((1.0 / Double(dh)).squareRoot())
        let scaledQuery = queryProjection(q).map { $0 * scale }
        var weights = [Float](repeating: 0, count: heads * validTokens)
        var concatenated = [Float](repeating: 0, count: d)
        scaledQuery.withUnsafeBufferPointer { query in
            keys.withUnsafeBufferPointer { keyRows in
                weights.withUnsafeMutableBufferPointer { allWeights in
                    for h in 0..<heads {
                        let queryHead = UnsafeBufferPointer(rebasing: query[(h * dh)..<((h + 1) * dh)])
                        let row = UnsafeMutableBufferPointer(
                            rebasing: allWeights[(h * validTokens)..<((h + 1) * validTokens)])
                        for j in 0..<validTokens {
                            let keyHead = UnsafeBufferPointer(rebasing: keyRows[(j * d + h * dh)..<(j * d + (h + 1) * dh)])
                            row[j] = dotProduct(queryHead, keyHead)
                        }
                        softmaxInPlace(row)
                    }
                }
            }
        }
        for h in 0..<heads {
            for k in 0..<dh {
                var sum: Float = 0
                for j in 0..<validTokens {
                    sum += weights[h * validTokens + j] * values[j * d + h * dh + k]
                }
                concatenated[h * dh + k] = sum
            }
        }
        return (outProj(concatenated), weights)
    }
}
