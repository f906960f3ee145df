/// Attention weights as `fuse --attention` writes them, checked and ready to render.
///
/// Two layouts, both float32 in C (row-major) order:
/// - plain: `(B, N, H, T·P)` — for sample b, block n, head h, the query's weight on each of the
///   T·P image tokens (frame-major: token `f·P + p` is token p of frame f);
/// - per-step: `(B, T, N, H, T·P)` — the same for every step t, where step t saw frames `0...t` only
///   (weights on later frames are 0, and steps at or past a sample's `image_lengths` are all 0).
///
/// Weights at masked tokens are 0 and every valid row sums to 1 (docs/model.md, "Attention maps").
public struct AttentionMaps {
    /// The weights, `shape.reduce(1, *)` of them, C order.
    public let values: [Float]
    /// `[B, N, H, T·P]` (plain) or `[B, T, N, H, T·P]` (per-step).
    public let shape: [Int]
    /// P, the image tokens per frame (≥ 1).
    public let tokensPerFrame: Int
    /// Whether the maps carry the step axis.
    public let perStep: Bool

    /// Checks and wraps attention maps.
    ///
    /// - Parameters:
    ///   - values: the weights in C order.
    ///   - shape: 4 axes `(B, N, H, T·P)` when `perStep` is false, 5 axes `(B, T, N, H, T·P)` when true.
    ///   - tokensPerFrame: P; must divide the last axis.
    ///   - perStep: which layout `shape` follows.
    /// - Throws: `HeatmapError` when the axis count is wrong, an axis is empty, `values.count` differs
    ///   from the shape's product, P is below 1 or does not divide the token axis, the per-step step axis
    ///   differs from the frame count, or a weight is NaN, infinite or negative (the message gives its
    ///   index). Complexity: O(values.count).
    public init(values: [Float], shape: [Int], tokensPerFrame: Int, perStep: Bool) throws {
        guard shape.count == (perStep ? 5 : 4) else { throw HeatmapError.wrongRank(perStep: perStep, shape: shape) }
        let names = perStep ? AttentionMaps.perStepAxes : AttentionMaps.plainAxes
        for (axis, length) in shape.enumerated() where length < 1 {
            throw HeatmapError.emptyAxis(names[axis].symbol, shape: shape)
        }
        var count = 1
        for length in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow else { throw HeatmapError.tooLarge(shape: shape) }
            count = product
        }
        guard values.count == count else {
            throw HeatmapError.valueCount(shape: shape, expected: count, found: values.count)
        }
        guard tokensPerFrame >= 1 else { throw HeatmapError.tokensPerFrame(tokensPerFrame) }
        let tokens = shape[shape.count - 1]
        guard tokens % tokensPerFrame == 0 else {
            throw HeatmapError.tokensNotDivisible(tokens: tokens, tokensPerFrame: tokensPerFrame)
        }
        if perStep, shape[1] != tokens / tokensPerFrame {
            throw HeatmapError.stepsMismatch(steps: shape[1], frames: tokens / tokensPerFrame,
                                             tokens: tokens, tokensPerFrame: tokensPerFrame)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            let index = AttentionMaps.multiIndex(of: bad, shape: shape)
            throw HeatmapError.badWeight(values[bad], index: index, names: names.map(\.word))
        }
        self.values = values
        self.shape = shape
        self.tokensPerFrame = tokensPerFrame
        self.perStep = perStep
    }

    /// B, the samples.
    public var samples: Int { shape[0] }
    /// N, the fusion blocks.
    public var blocks: Int { shape[perStep ? 2 : 1] }
    /// H, the heads per block.
    public var heads: Int { shape[perStep ? 3 : 2] }
    /// T·P, the image tokens.
    public var tokens: Int { shape[shape.count - 1] }
    /// T, the frames.
    public var frames: Int { tokens / tokensPerFrame }
    /// T for per-step maps (the step axis), nil for plain maps.
    public var steps: Int? { perStep ? shape[1] : nil }

    /// The attention one frame received: the sum of its P token weights.
    ///
    /// Plain maps ignore `step`. - Precondition: every index is in range.
    func frameWeight(sample: Int, step: Int, block: Int, head: Int, frame: Int) -> Double {
        var row = sample
        if perStep { row = row * shape[1] + step }
        row = (row * blocks + block) * heads + head
        let start = row * tokens + frame * tokensPerFrame
        var sum = 0.0
        for token in start..<(start + tokensPerFrame) {
            sum += Double(values[token])
        }
        return sum
    }

    private static let plainAxes = [("B", "sample"), ("N", "block"), ("H", "head"), ("T·P", "token")]
        .map { (symbol: $0.0, word: $0.1) }
    private static let perStepAxes = [("B", "sample"), ("T", "step"), ("N", "block"), ("H", "head"), ("T·P", "token")]
        .map { (symbol: $0.0, word: $0.1) }

    /// The C-order multi-index of flat position `flat` in `shape`.
    private static func multiIndex(of flat: Int, shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}
