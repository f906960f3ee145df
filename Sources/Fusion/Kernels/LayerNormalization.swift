/// LayerNorm over one vector, as torch's `nn.LayerNorm(n, eps)`:
/// `μ = Σx/n`, `σ² = Σ(x−μ)²/n` (biased), `y = (x−μ)/√(σ²+eps)·w + b`.
///
/// Sums run in float32 in index order. `output` may alias `input` only if it is the same buffer.
/// - Precondition: all four buffers hold `input.count` ≥ 1 elements. - Complexity: O(n).
func layerNormalize(
    _ input: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
    bias: UnsafeBufferPointer<Float>, eps: Float, output: UnsafeMutableBufferPointer<Float>
) {
    let n = input.count
    precondition(
        n >= 1 && weight.count == n && bias.count == n && output.count == n,
        "layerNormalize: input \(n), weight \(weight.count), bias \(bias.count), output \(output.count)")
    var sum: Float = 0
    for i in 0..<n {
        sum += input[i]
    }
    let mean = sum / Float(n)
    var squares: Float = 0
    for i in 0..<n {
        let centred = input[i] - mean
        squares += centred * centred
    }
    let variance = squares / Float(n)
    let inverseDeviation = 1 / (variance + eps).squareRoot()
    for i in 0..<n {
        output[i] = (input[i] - mean) * inverseDeviation * weight[i] + bias[i]
    }
}
