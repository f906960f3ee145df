/// How much attention each frame received, for people reading a run's result.
///
/// Input: plain-mode attention maps, shape (B, N, H, T·P) in C order (N blocks, H heads, P tokens per
/// frame). Output: for every sample, T numbers — the weights of a frame's P tokens summed, then averaged
/// over the N·H block/head rows. Each sample's numbers sum to 1 over its valid frames.
public enum FrameAttention {
    /// - Precondition: `shape.count == 4`, `values.count` matches it and `tokensPerFrame` divides `shape[3]`.
    public static func perFrame(values: [Float], shape: [Int], tokensPerFrame: Int) -> [[Double]] {
        precondition(shape.count == 4 && values.count == shape.reduce(1, *),
                     "attention shape \(shape) does not match \(values.count) values")
        precondition(tokensPerFrame > 0 && shape[3] % tokensPerFrame == 0,
                     "\(tokensPerFrame) tokens per frame do not divide \(shape[3]) tokens")
        let (batch, rows, tokens) = (shape[0], shape[1] * shape[2], shape[3])
        let frames = tokens / tokensPerFrame
        return (0..<batch).map { b in
            var sums = [Double](repeating: 0, count: frames)
            for row in 0..<rows {
                let base = (b * rows + row) * tokens
                for token in 0..<tokens {
                    sums[token / tokensPerFrame] += Double(values[base + token])
                }
            }
            return sums.map { $0 / Double(rows) }
        }
    }

    /// The indices of the `count` largest entries, largest first (ties: lower index first).
    public static func top(_ weights: [Double], count: Int) -> [Int] {
        Array(weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
            .prefix(count))
    }
}
