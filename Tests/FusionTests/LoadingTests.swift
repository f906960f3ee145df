import NpyIO
import Testing
@testable import Fusion

/// The loader over in-memory members (what an `.npz` holds), exact messages.
@Suite struct LoadingTests {
    let config = ModelFactory.smallConfig(finalNorm: true)

    /// The state_dict as NumPy members, optionally prefixed, with the config member(s).
    func members(prefix: String = "", configNames: [String] = ["config"], dtype: String = "float32") -> [String: NpyArray] {
        var result: [String: NpyArray] = [:]
        for (key, tensor) in ModelFactory.tensors(config) {
            switch dtype {
            case "float64": result[prefix + key] = NpyArray(float64: tensor.values.map(Double.init), shape: tensor.shape)
            default: result[prefix + key] = NpyArray(float32: tensor.values, shape: tensor.shape)
            }
        }
        for name in configNames {
            result[name] = NpyArray(string: config.jsonString())
        }
        return result
    }

    func load(_ members: [String: NpyArray], prefix: String? = nil, configJSON: String? = nil) throws -> FusionModel {
        try FusionModel.load(
            memberNames: Array(members.keys), array: { members[$0]! }, source: "w.npz", prefix: prefix,
            configJSON: configJSON, configOrigin: "c.json")
    }

    func message(_ body: () throws -> FusionModel) -> String? {
        #expect(throws: FusionError.self) { _ = try body() }?.description
    }

    @Test func loadsPlainPrefixedAndFloat64() throws {
        let expected = try ModelFactory.model(config)
        #expect(try load(members()) == expected)
        #expect(try load(members(prefix: "policy.fusion."), prefix: "policy.fusion.") == expected)
        #expect(try load(members(prefix: "a.", configNames: ["a.config"]), prefix: "a.") == expected)
        #expect(try load(members(prefix: "a.", configNames: ["a.config", "config"]), prefix: "a.") == expected)
        #expect(try load(members(dtype: "float64")) == expected)
    }

    @Test func configJSONOverridesTheMember() throws {
        var members = members(configNames: [])
        #expect(try load(members, configJSON: config.jsonString()).config == config)
        members["config"] = NpyArray(string: #"{"proj_dim": 12}"#)
        #expect(try load(members, configJSON: config.jsonString()).config == config)
        var contradicting = config
        contradicting.ffnDim = 45
        #expect(message { try load(members, configJSON: contradicting.jsonString()) } == "weight \"fusor.blocks.0.ffn.0.weight\": expected shape (45, 36) from the configuration's (ffn_dim, proj_dim), block 0 of n_blocks = 2, found (44, 36)")
    }

    @Test func missingConfigIsAnError() {
        #expect(message { try load(members(configNames: [])) } == "w.npz: no configuration: the archive has no \"config\" member and no configuration JSON was given")
    }

    @Test func configErrorsNameTheirOrigin() {
        var members = members()
        members["config"] = NpyArray(string: #"{"proj_dim": 36, "heads": 3}"#)
        #expect(message { try load(members) } == "w.npz:config: unknown configuration key \"heads\" (known keys: activation, attn_bias, ffn_dim, final_norm, img_latent_dim, layer_norm_eps, n_blocks, n_heads, norm_first, proj_dim, txt_latent_dim)")
        #expect(message { try load(members, configJSON: #"{"activation": "swish"}"#) } == "c.json: configuration key \"activation\": expected one of \"gelu\", \"gelu_tanh\", \"relu\", found \"swish\"")
    }

    @Test func prefixMistakesAreNamed() {
        #expect(message { try load(members(), prefix: "policy.fusion.") } == "unexpected weight \"fusor.blocks.0.attn.in_proj_bias\": it does not start with the prefix \"policy.fusion.\"")
        #expect(message { try load(members(prefix: "policy.fusion.")) } == "unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the SPEC model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
    }

    @Test func differingConfigMembersAreRejected() {
        var members = members(prefix: "a.", configNames: ["config"])
        members["a.config"] = NpyArray(string: "{}")
        #expect(message { try load(members, prefix: "a.") } == "unexpected weight \"config\": a second configuration member that differs from \"a.config\"")
    }

    @Test func missingExtraAndMisshapenMembers() {
        var missing = members()
        missing["fusor.final_norm.bias"] = nil
        #expect(message { try load(missing) } == "missing weight \"fusor.final_norm.bias\": expected shape (36,) from the configuration's (proj_dim,)")
        var extra = members()
        extra["fusor.blocks.2.norm1.weight"] = NpyArray(float32: [Float](repeating: 1, count: 36), shape: [36])
        #expect(message { try load(extra) } == "unexpected weight \"fusor.blocks.2.norm1.weight\": the configuration has n_blocks = 2 (blocks 0…1)")
        var misshapen = members()
        misshapen["vision_proj.proj.weight"] = NpyArray(float32: [Float](repeating: 0, count: 36 * 51), shape: [36, 51])
        #expect(message { try load(misshapen) } == "weight \"vision_proj.proj.weight\": expected shape (36, 50) from the configuration's (proj_dim, img_latent_dim), found (36, 51)")
    }

    @Test func integerWeightsAreRejected() {
        var members = members(prefix: "p.")
        members["p.fusor.blocks.1.norm2.bias"] = NpyArray(int64: [Int64](repeating: 0, count: 36), shape: [36])
        #expect(message { try load(members, prefix: "p.") } == "weight \"p.fusor.blocks.1.norm2.bias\": expected a float16, float32 or float64 array, found int64")
    }
}

@Suite struct LoadingPrefixedNamesTests {
    @Test func errorsNameMembersWithTheirPrefix() {
        let config = ModelFactory.smallConfig()
        var members: [String: NpyArray] = ["config": NpyArray(string: config.jsonString())]
        for (key, tensor) in ModelFactory.tensors(config) where key != "fusor.blocks.0.norm1.bias" {
            members["p.q." + key] = NpyArray(float32: tensor.values, shape: tensor.shape)
        }
        func message(prefix: String) -> String? {
            #expect(throws: FusionError.self) {
                try FusionModel.load(memberNames: Array(members.keys), array: { members[$0]! }, source: "w.npz", prefix: prefix, configJSON: nil)
            }?.description
        }
        #expect(message(prefix: "p.q.") == "missing weight \"p.q.fusor.blocks.0.norm1.bias\": expected shape (36,) from the configuration's (proj_dim,), block 0 of n_blocks = 2")
        #expect(message(prefix: "p.") == "unexpected weight \"p.q.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the SPEC model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"p.q.\", which must be named to be stripped")
        members["p.q.fusor.blocks.0.norm1.bias"] = NpyArray(float32: [1, 2], shape: [2])
        #expect(message(prefix: "p.q.") == "weight \"p.q.fusor.blocks.0.norm1.bias\": expected shape (36,) from the configuration's (proj_dim,), block 0 of n_blocks = 2, found (2,)")
        members["p.q.fusor.blocks.0.norm1.bias"] = nil
        members["p.q.fusor.blocks.3.norm1.bias"] = NpyArray(float32: [1, 2], shape: [2])
        #expect(message(prefix: "p.q.") == "unexpected weight \"p.q.fusor.blocks.3.norm1.bias\": the configuration has n_blocks = 2 (blocks 0…1)")
    }
}
