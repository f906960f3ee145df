/// The reference model's initialisation (what `torch` gives a freshly built module), made
/// deterministic by drawing from one ``SplitMix64`` stream seeded with `seed`.
///
/// Per tensor, in state_dict order (``FusionConfig/expectedWeights()``), elements in row-major order:
/// - `Linear.weight` (`text_proj.proj`, `vision_proj.proj`, `attn.out_proj`, `ffn.0`, `ffn.2`):
///   U(±1/√fan_in) — torch's `kaiming_uniform_(a=√5)`.
/// - `ffn.0.bias`, `ffn.2.bias`: U(±1/√fan_in) — torch's Linear bias init.
/// - `attn.in_proj_weight`: U(±√(6/(d+3d))) — `xavier_uniform_` on (3d, d).
/// - `attn.in_proj_bias`, `attn.out_proj.bias`: 0 (MultiheadAttention's `_reset_parameters`).
/// - LayerNorm weight 1, bias 0.
/// Constant tensors draw nothing from the stream. The numbers are not torch's (its generator differs);
/// the distributions are.
public enum WeightInitializer {
    /// The initialised state_dict for `config`, keys without prefix, in state_dict order.
    /// - Precondition: `config` is valid (``FusionConfig/validate()``), else traps with its error.
    public static func stateDict(config: FusionConfig, seed: UInt64) -> [(key: String, value: Tensor)] {
        do {
            try config.validate()
        } catch {
            preconditionFailure("WeightInitializer: \(error)")
        }
        var generator = SplitMix64(seed: seed)
        let d = Double(config.projDim)
        return config.expectedWeights().map { spec in
            let key = spec.key
            let count = elementCount(spec.shape)
            let bound: Double?
            let constant: Float
            if key.hasSuffix("in_proj_weight") {
                bound = (6 / (d + 3 * d)).squareRoot()
                constant = 0
            } else if key.hasSuffix("in_proj_bias") || key.hasSuffix("out_proj.bias") {
                bound = nil
                constant = 0
            } else if key.contains("norm") {
                bound = nil
                constant = key.hasSuffix(".weight") ? 1 : 0
            } else if key.hasSuffix(".weight") {
                bound = 1 / Double(spec.shape[1]).squareRoot()
                constant = 0
            } else {
                // ffn.0.bias / ffn.2.bias: fan_in is the layer's input size.
                let fanIn = key.hasSuffix("ffn.0.bias") ? config.projDim : config.ffnDim
                bound = 1 / Double(fanIn).squareRoot()
                constant = 0
            }
            guard let bound else {
                return (key, Tensor(shape: spec.shape, values: [Float](repeating: constant, count: count)))
            }
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                values[i] = generator.uniform(bound: bound)
            }
            return (key, Tensor(shape: spec.shape, values: values))
        }
    }
}
