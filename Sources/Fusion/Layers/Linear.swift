/// A fully connected layer, mirroring `torch.nn.Linear(in_features, out_features, bias=…)`:
/// `y = W·x + b`.
public struct Linear: Sendable, Equatable {
    /// W, shape (out_features, in_features), row-major — `Linear.weight`.
    public let weight: Tensor
    /// b, shape (out_features,), or nil — `Linear.bias`.
    public let bias: Tensor?

    /// Wraps checked tensors.
    /// - Precondition: `weight` is 2-D and `bias`, when given, is (out_features,) (traps naming the shapes).
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 2, "Linear: weight shape \(weight.shapeDescription) is not 2-D")
        if let bias {
            precondition(
                bias.shape == [weight.shape[0]],
                "Linear: bias shape \(bias.shapeDescription) does not match weight \(weight.shapeDescription)")
        }
        self.weight = weight
        self.bias = bias
    }

    /// in_features, the length of x.
    public var inFeatures: Int { weight.shape[1] }
    /// out_features, the length of y.
    public var outFeatures: Int { weight.shape[0] }

    /// `y = W·x + b` for one vector x of length in_features; y has length out_features.
    /// Each element is one float32 dot product in index order, then + b.
    /// - Precondition: `x.count == inFeatures`. - Complexity: O(in·out).
    public func callAsFunction(_ x: [Float]) -> [Float] {
        precondition(x.count == inFeatures, "Linear: input length \(x.count), expected \(inFeatures)")
        var y = [Float](repeating: 0, count: outFeatures)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { output in
                weight.withUnsafeBufferPointer { w in
                    if let bias {
                        bias.withUnsafeBufferPointer { b in
                            matrixVector(
                                weight: w, rows: outFeatures, cols: inFeatures, input: input, bias: b,
                                output: output)
                        }
                    } else {
                        matrixVector(
                            weight: w, rows: outFeatures, cols: inFeatures, input: input, bias: nil,
                            output: output)
                    }
                }
            }
        }
        return y
    }

    /// Applies the layer to every row of a row-major (rows, in_features) matrix, giving (rows, out_features).
    /// Row r of the result equals `self(row r)` exactly.
    /// - Precondition: `x.count == rows · inFeatures`. - Complexity: O(rows·in·out).
    public func applyRows(_ x: [Float], rows: Int) -> [Float] {
        precondition(
            x.count == rows * inFeatures, "Linear: \(x.count) inputs for \(rows) rows of \(inFeatures)")
        var y = [Float]()
        y.reserveCapacity(rows * outFeatures)
        for r in 0..<rows {
            y += self(Array(x[(r * inFeatures)..<((r + 1) * inFeatures)]))
        }
        return y
    }
}
