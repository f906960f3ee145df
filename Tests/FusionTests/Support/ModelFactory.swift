@testable import Fusion

/// Small models and inputs for tests, deterministic for a seed.
enum ModelFactory {
    /// A small configuration whose sizes are not multiples of 8 (d = 36, 3 heads).
    static func smallConfig(
        normFirst: Bool = false, activation: Activation = .gelu, finalNorm: Bool = false, attnBias: Bool = true,
        heads: Int = 3, blocks: Int = 2
    ) -> FusionConfig {
        var config = FusionConfig()
        config.imgLatentDim = 50
        config.txtLatentDim = 20
        config.projDim = 36
        config.nHeads = heads
        config.nBlocks = blocks
        config.ffnDim = 44
        config.normFirst = normFirst
        config.activation = activation
        config.finalNorm = finalNorm
        config.attnBias = attnBias
        return config
    }

    /// The initialised weights of `config` as a dictionary, with LayerNorm and biases perturbed
    /// away from 1/0 so that every parameter matters.
    static func tensors(_ config: FusionConfig, seed: UInt64 = 7) -> [String: Tensor] {
        var generator = SplitMix64(seed: seed ^ 0xABCD)
        var result: [String: Tensor] = [:]
        for (key, value) in WeightInitializer.stateDict(config: config, seed: seed) {
            var tensor = value
            if key.contains("norm") || key.hasSuffix("_bias") || key.hasSuffix("proj.bias") {
                tensor.values = tensor.values.map { $0 + generator.uniform(bound: 0.2) }
            }
            result[key] = tensor
        }
        return result
    }

    static func model(_ config: FusionConfig = smallConfig(), seed: UInt64 = 7) throws -> FusionModel {
        try FusionModel(config: config, tensors: tensors(config, seed: seed))
    }

    /// A tensor of `shape` with approximately standard normal entries (sum of 4 uniforms, scaled).
    static func normal(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var sum: Float = 0
            for _ in 0..<4 {
                sum += generator.uniform(bound: 1)
            }
            values[i] = sum * 0.866
        }
        return Tensor(shape: shape, values: values)
    }
}
