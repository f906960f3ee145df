/// A block's feed-forward net, mirroring `nn.Sequential(nn.Linear(d, ffn), act, nn.Linear(ffn, d))`
/// (state_dict keys `ffn.0.*` and `ffn.2.*`): `FFN(x) = W2·act(W1·x + b1) + b2`.
public struct FeedForward: Sendable, Equatable {
    /// `ffn.0`: (ffn_dim, d) with bias.
    public let expand: Linear
    /// `ffn.2`: (d, ffn_dim) with bias.
    public let contract: Linear
    /// The non-linearity between them (`ffn.1`).
    public let activation: Activation

    /// - Precondition: `contract.inFeatures == expand.outFeatures`.
    public init(expand: Linear, contract: Linear, activation: Activation) {
        precondition(
            contract.inFeatures == expand.outFeatures && contract.outFeatures == expand.inFeatures,
            "FeedForward: expand \(expand.weight.shapeDescription) and contract \(contract.weight.shapeDescription) do not chain")
        self.expand = expand
        self.contract = contract
        self.activation = activation
    }

    /// `W2·act(W1·x + b1) + b2` for one vector of length d. - Complexity: O(d·ffn_dim).
    public func callAsFunction(_ x: [Float]) -> [Float] {
        var hidden = expand(x)
        hidden.withUnsafeMutableBufferPointer { applyActivation(activation, to: $0) }
        return contract(hidden)
    }
}
