/// Layer normalisation over the last axis, mirroring `torch.nn.LayerNorm(d, eps)`:
/// `y = (x − mean x)/√(var x + eps)·weight + bias` with the biased variance.
public struct LayerNorm: Sendable, Equatable {
    /// γ, shape (d,) — `LayerNorm.weight`.
    public let weight: Tensor
    /// β, shape (d,) — `LayerNorm.bias`.
    public let bias: Tensor
    /// ε inside the square root, in float32 as torch uses it.
    public let eps: Float

    /// - Precondition: `weight` and `bias` are both (d,) with d ≥ 1 (traps naming the shapes).
    public init(weight: Tensor, bias: Tensor, eps: Float) {
        precondition(
            weight.shape.count == 1 && weight.shape == bias.shape && weight.count >= 1,
            "LayerNorm: weight \(weight.shapeDescription) and bias \(bias.shapeDescription) must be equal 1-D shapes")
        self.weight = weight
        self.bias = bias
        self.eps = eps
    }

    /// Normalises one vector of length d (see ``layerNormalize(_:weight:bias:eps:output:)``).
    /// - Precondition: `x.count == d`. - Complexity: O(d).
    public func callAsFunction(_ x: [Float]) -> [Float] {
        precondition(x.count == weight.count, "LayerNorm: input length \(x.count), expected \(weight.count)")
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { input in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { output in
                        layerNormalize(input, weight: w, bias: b, eps: eps, output: output)
                    }
                }
            }
        }
        return y
    }
}
