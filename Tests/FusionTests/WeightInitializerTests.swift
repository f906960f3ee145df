import Testing
@testable import Fusion

@Suite struct WeightInitializerTests {
    @Test func deterministicForASeedAndDifferentAcrossSeeds() {
        let config = ModelFactory.smallConfig(finalNorm: true)
        let a = WeightInitializer.stateDict(config: config, seed: 42)
        let b = WeightInitializer.stateDict(config: config, seed: 42)
        let c = WeightInitializer.stateDict(config: config, seed: 43)
        #expect(a.map(\.key) == config.expectedWeights().map(\.key))
        #expect(a.map(\.value) == b.map(\.value))
        #expect(a[0].value != c[0].value)
    }

    @Test func distributionsFollowTorch() throws {
        let config = ModelFactory.smallConfig(finalNorm: true)
        let dict = Dictionary(uniqueKeysWithValues: WeightInitializer.stateDict(config: config, seed: 5).map { ($0.key, $0.value) })
        func bounds(_ key: String) -> (Float, Float) { (dict[key]!.values.min()!, dict[key]!.values.max()!) }
        let cases: [(String, Double)] = [
            ("text_proj.proj.weight", 1 / 20.0.squareRoot()),
            ("vision_proj.proj.weight", 1 / 50.0.squareRoot()),
            ("fusor.blocks.0.attn.in_proj_weight", (6.0 / (36 + 108)).squareRoot()),
            ("fusor.blocks.0.attn.out_proj.weight", 1 / 36.0.squareRoot()),
            ("fusor.blocks.1.ffn.0.weight", 1 / 36.0.squareRoot()),
            ("fusor.blocks.1.ffn.0.bias", 1 / 36.0.squareRoot()),
            ("fusor.blocks.1.ffn.2.weight", 1 / 44.0.squareRoot()),
            ("fusor.blocks.1.ffn.2.bias", 1 / 44.0.squareRoot()),
        ]
        for (key, bound) in cases {
            let (low, high) = bounds(key)
            #expect(Double(low) >= -bound && Double(high) <= bound, "\(key): [\(low), \(high)] vs ±\(bound)")
            #expect(Double(high) > 0.8 * bound && Double(low) < -0.8 * bound, "\(key) does not fill ±\(bound)")
        }
        #expect(dict["fusor.blocks.0.attn.in_proj_bias"]!.values.allSatisfy { $0 == 0 })
        #expect(dict["fusor.blocks.0.attn.out_proj.bias"]!.values.allSatisfy { $0 == 0 })
        #expect(dict["fusor.blocks.1.norm1.weight"]!.values.allSatisfy { $0 == 1 })
        #expect(dict["fusor.final_norm.bias"]!.values.allSatisfy { $0 == 0 })
        _ = try FusionModel(config: config, tensors: dict)
    }

    @Test func splitMix64KnownValues() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }
}
