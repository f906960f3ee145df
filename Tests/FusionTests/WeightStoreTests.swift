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
        #expect(final?.description == """
            the tensors do not match the model's weights (2 missing):
              missing "fusor.final_norm.weight": expected shape (36,) from the configuration's (proj_dim,)
              missing "fusor.final_norm.bias": expected shape (36,) from the configuration's (proj_dim,)
            """)

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

/// Several problems in one error: every unexpected and missing key, suggestions only where a shape
/// (narrowed by block number and last name part where shared) identifies the tensor.
@Suite struct WeightNameMismatchTests {
    let config = ModelFactory.smallConfig()

    @Test func sharedShapesAreNarrowedByBlockAndLeafOrNotSuggested() {
        var tensors = ModelFactory.tensors(config)
        // norm1.weight and norm2.weight of block 0 share (36,) and the leaf "weight": no suggestion;
        // block 1's in_proj_weight is alone of its shape among the missing keys of block 1.
        for key in ["fusor.blocks.0.norm1.weight", "fusor.blocks.0.norm2.weight"] {
            tensors[key.replacingOccurrences(of: "norm", with: "ln")] = tensors.removeValue(forKey: key)
        }
        tensors["fusor.layers.1.attn.in_proj_weight"] = tensors.removeValue(forKey: "fusor.blocks.1.attn.in_proj_weight")
        tensors["fusor.layers.0.attn.in_proj_weight"] = tensors.removeValue(forKey: "fusor.blocks.0.attn.in_proj_weight")
        let error = #expect(throws: FusionError.self) { try WeightStore(config: config, tensors: tensors) }
        guard case let .weightNames(mismatch)? = error else {
            Issue.record("expected .weightNames, got \(String(describing: error))")
            return
        }
        #expect(mismatch.unexpected.map(\.key) == ["fusor.blocks.0.ln1.weight", "fusor.blocks.0.ln2.weight",
                                                   "fusor.layers.0.attn.in_proj_weight", "fusor.layers.1.attn.in_proj_weight"])
        #expect(mismatch.unexpected.map(\.looksLike) == [nil, nil, "fusor.blocks.0.attn.in_proj_weight", "fusor.blocks.1.attn.in_proj_weight"])
        #expect(mismatch.missing.map(\.key) == ["fusor.blocks.0.attn.in_proj_weight", "fusor.blocks.0.norm1.weight",
                                                "fusor.blocks.0.norm2.weight", "fusor.blocks.1.attn.in_proj_weight"])
    }

    @Test func renameRulesFollowTheDifferingStarts() {
        #expect(FusionError.renameRule(from: "img_proj.weight", to: "vision_proj.proj.weight").description == "img_proj.=vision_proj.proj.")
        #expect(FusionError.renameRule(from: "layers.0.attn.in_proj_weight", to: "fusor.blocks.0.attn.in_proj_weight").description == "layers.=fusor.blocks.")
        #expect(FusionError.renameRule(from: "w", to: "text_proj.proj.weight").description == "w=text_proj.proj.weight")
        #expect(WeightRename.apply([.init(old: "a.", new: "x."), .init(old: "a.b.", new: "y.")], to: "a.b.c") == "y.c")
        #expect(WeightRename.apply([.init(old: "a.", new: "x.")], to: "b.c") == "b.c")
        #expect(throws: FusionError.invalidRename(rule: "=", detail: "both sides are empty")) { try WeightRename(parsing: "=") }
    }
}
