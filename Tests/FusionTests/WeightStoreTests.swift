import Testing
@testable import Fusion

@Suite struct WeightStoreTests {
    let config = ModelFactory.smallConfig()

    @Test func acceptsExactlyTheTable() throws {
        let store = try WeightStore(config: config, tensors: ModelFactory.tensors(config))
        #expect(store.tensors.count == 2 + 2 * 12)
        #expect(store["fusor.blocks.1.ffn.2.weight"].shape == [36, 44])
    }

    @Test func missingKeyIsNamedWithItsShape() {
        var tensors = ModelFactory.tensors(config)
        tensors["fusor.blocks.1.norm2.bias"] = nil
        let error = #expect(throws: FusionError.self) { try WeightStore(config: config, tensors: tensors) }
        #expect(error?.description == "missing weight \"fusor.blocks.1.norm2.bias\": expected shape (36,) from the configuration's (proj_dim,), block 1 of n_blocks = 2")
    }

    @Test func extraKeyIsNamed() {
        var tensors = ModelFactory.tensors(config)
        tensors["fusor.blocks.0.attn.dropout"] = Tensor(zeros: [1])
        let error = #expect(throws: FusionError.self) { try WeightStore(config: config, tensors: tensors) }
        #expect(error?.description == "unexpected weight \"fusor.blocks.0.attn.dropout\": not a tensor of the fusion model")
    }

    @Test func wrongShapeIsNamed() {
        var tensors = ModelFactory.tensors(config)
        tensors["fusor.blocks.0.attn.in_proj_weight"] = Tensor(zeros: [36, 36])
        let error = #expect(throws: FusionError.self) { try WeightStore(config: config, tensors: tensors) }
        #expect(error?.description == "weight \"fusor.blocks.0.attn.in_proj_weight\": expected shape (108, 36) from the configuration's (3·proj_dim, proj_dim), block 0 of n_blocks = 2, found (36, 36)")
    }

    @Test func configContradictingShapesIsNamed() {
        var other = config
        other.txtLatentDim = 21
        let error = #expect(throws: FusionError.self) {
            try WeightStore(config: other, tensors: ModelFactory.tensors(config))
        }
        #expect(error?.description == "weight \"text_proj.proj.weight\": expected shape (36, 21) from the configuration's (proj_dim, txt_latent_dim), found (36, 20)")
    }

    @Test func configFlagsContradictingTheFileAreNamed() {
        var fewerBlocks = config
        fewerBlocks.nBlocks = 1
        let blocks = #expect(throws: FusionError.self) {
            try WeightStore(config: fewerBlocks, tensors: ModelFactory.tensors(config))
        }
        #expect(blocks?.description == "unexpected weight \"fusor.blocks.1.attn.in_proj_bias\": the configuration has n_blocks = 1 (blocks 0…0)")

        var noBias = config
        noBias.attnBias = false
        let bias = #expect(throws: FusionError.self) {
            try WeightStore(config: noBias, tensors: ModelFactory.tensors(config))
        }
        #expect(bias?.description == "unexpected weight \"fusor.blocks.0.attn.in_proj_bias\": the configuration has attn_bias = false")

        var withFinal = config
        withFinal.finalNorm = true
        let final = #expect(throws: FusionError.self) {
            try WeightStore(config: withFinal, tensors: ModelFactory.tensors(config))
        }
        #expect(final?.description == "missing weight \"fusor.final_norm.weight\": expected shape (36,) from the configuration's (proj_dim,)")

        let noFinal = #expect(throws: FusionError.self) {
            try WeightStore(config: config, tensors: ModelFactory.tensors(withFinal))
        }
        #expect(noFinal?.description == "unexpected weight \"fusor.final_norm.bias\": the configuration has final_norm = false")
    }

    @Test func unstrippedPrefixGetsAHint() {
        var tensors: [String: Tensor] = [:]
        for (key, value) in ModelFactory.tensors(config) {
            tensors["policy.fusion." + key] = value
        }
        let error = #expect(throws: FusionError.self) { try WeightStore(config: config, tensors: tensors) }
        #expect(error?.description == "unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
    }

    @Test func invalidConfigIsRejectedFirst() {
        var bad = config
        bad.nHeads = 5
        #expect(throws: FusionError.invalidConfigValue(
            origin: "configuration", key: "proj_dim", expected: "a multiple of n_heads = 5", found: "36")) {
            try WeightStore(config: bad, tensors: ModelFactory.tensors(config))
        }
    }
}
