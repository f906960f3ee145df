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

    @Test func configJSONMustAgreeWithTheMember() throws {
        var members = members(configNames: [])
        #expect(try load(members, configJSON: config.jsonString()).config == config)
        var contradicting = config
        contradicting.ffnDim = 45
        #expect(message { try load(members, configJSON: contradicting.jsonString()) } == "w.npz: weight \"fusor.blocks.0.ffn.0.weight\": expected shape (45, 36) from the configuration's (ffn_dim, proj_dim), block 0 of n_blocks = 2, found (44, 36)")
        // Beside the file's own configuration, the same one is accepted and another is an error naming the keys.
        members["config"] = NpyArray(string: config.jsonString())
        #expect(try load(members, configJSON: config.jsonString()).config == config)
        contradicting.normFirst = true
        #expect(message { try load(members, configJSON: contradicting.jsonString()) } == "c.json: the configuration contradicts the weights file's own (w.npz:config): ffn_dim 45 (file: 44), norm_first true (file: false); drop --config to use the file's configuration, or correct the one that is wrong")
        members["config"] = NpyArray(string: #"{"proj_dim": 12}"#)
        #expect(message { try load(members, configJSON: config.jsonString()) } == "w.npz:config: configuration key \"proj_dim\": expected a multiple of n_heads = 8, found 12")
    }

    @Test func missingConfigIsAnError() {
        #expect(message { try load(members(configNames: [])) } == "w.npz: no configuration: the weights file has no \"config\" entry and no configuration JSON was given; give one with --config FILE (a JSON object, docs/model.md \"Configuration\")")
    }

    @Test func configErrorsNameTheirOrigin() {
        var members = members()
        members["config"] = NpyArray(string: #"{"proj_dim": 36, "heads": 3}"#)
        #expect(message { try load(members) } == "w.npz:config: unknown configuration key \"heads\" (known keys: activation, attn_bias, ffn_dim, final_norm, img_latent_dim, layer_norm_eps, n_blocks, n_heads, norm_first, proj_dim, txt_latent_dim)")
        #expect(message { try load(members, configJSON: #"{"activation": "swish"}"#) } == "c.json: configuration key \"activation\": expected one of \"gelu\", \"gelu_tanh\", \"relu\", found \"swish\"")
    }

    @Test func prefixMistakesAreNamed() {
        #expect(message { try load(members(), prefix: "policy.fusion.") } == "w.npz: no tensor starts with the prefix \"policy.fusion.\" (all 28 tensors are outside it, such as \"fusor.blocks.0.attn.in_proj_bias\"); they look like the model's own keys: drop the prefix")
        #expect(message { try load(members(prefix: "policy.fusion.")) } == "w.npz: unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
    }

    @Test func differingConfigMembersAreRejected() {
        var members = members(prefix: "a.", configNames: ["config"])
        members["a.config"] = NpyArray(string: "{}")
        #expect(message { try load(members, prefix: "a.") } == "w.npz: unexpected weight \"config\": a second configuration member that differs from \"a.config\"")
    }

    @Test func missingExtraAndMisshapenMembers() {
        var missing = members()
        missing["fusor.final_norm.bias"] = nil
        #expect(message { try load(missing) } == "w.npz: missing weight \"fusor.final_norm.bias\": expected shape (36,) from the configuration's (proj_dim,)")
        var extra = members()
        extra["fusor.blocks.2.norm1.weight"] = NpyArray(float32: [Float](repeating: 1, count: 36), shape: [36])
        #expect(message { try load(extra) } == "w.npz: unexpected weight \"fusor.blocks.2.norm1.weight\": the configuration has n_blocks = 2 (blocks 0…1)")
        var misshapen = members()
        misshapen["vision_proj.proj.weight"] = NpyArray(float32: [Float](repeating: 0, count: 36 * 51), shape: [36, 51])
        #expect(message { try load(misshapen) } == "w.npz: weight \"vision_proj.proj.weight\": expected shape (36, 50) from the configuration's (proj_dim, img_latent_dim), found (36, 51)")
    }

    @Test func integerWeightsAreRejected() {
        var members = members(prefix: "p.")
        members["p.fusor.blocks.1.norm2.bias"] = NpyArray(int64: [Int64](repeating: 0, count: 36), shape: [36])
        #expect(message { try load(members, prefix: "p.") } == "w.npz: weight \"p.fusor.blocks.1.norm2.bias\": expected a float16, float32 or float64 array, found int64")
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
        #expect(message(prefix: "p.q.") == "w.npz: missing weight \"p.q.fusor.blocks.0.norm1.bias\": expected shape (36,) from the configuration's (proj_dim,), block 0 of n_blocks = 2")
        #expect(message(prefix: "p.") == "w.npz: unexpected weight \"p.q.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"p.q.\", which must be named to be stripped")
        members["p.q.fusor.blocks.0.norm1.bias"] = NpyArray(float32: [1, 2], shape: [2])
        #expect(message(prefix: "p.q.") == "w.npz: weight \"p.q.fusor.blocks.0.norm1.bias\": expected shape (36,) from the configuration's (proj_dim,), block 0 of n_blocks = 2, found (2,)")
        members["p.q.fusor.blocks.0.norm1.bias"] = nil
        members["p.q.fusor.blocks.3.norm1.bias"] = NpyArray(float32: [1, 2], shape: [2])
        // Two problems at once: one error lists both.
        #expect(message(prefix: "p.q.") == """
            w.npz: the tensors do not match the model's weights (1 unexpected, 1 missing):
              unexpected "p.q.fusor.blocks.3.norm1.bias" (2,): the configuration has n_blocks = 2 (blocks 0…1)
              missing "p.q.fusor.blocks.0.norm1.bias": expected shape (36,) from the configuration's (proj_dim,), block 0 of n_blocks = 2
            """)
        members["p.q.fusor.blocks.3.norm1.bias"] = nil
        #expect(message(prefix: "p.q.") == "w.npz: missing weight \"p.q.fusor.blocks.0.norm1.bias\": expected shape (36,) from the configuration's (proj_dim,), block 0 of n_blocks = 2")
    }
}

/// A prefix on a whole agent checkpoint: tensors outside it are left aside, tensors inside it must be
/// exactly the model's; NaN and Inf in weights are errors unless allowed.
@Suite struct LoadingAgentCheckpointTests {
    let config = ModelFactory.smallConfig()

    /// The model under `policy.fusion.` plus the rest of an agent: a policy head and a value head
    /// (one of them an integer tensor, which is never read).
    func agentMembers() -> [String: NpyArray] {
        var members: [String: NpyArray] = ["config": NpyArray(string: config.jsonString())]
        for (key, tensor) in ModelFactory.tensors(config) {
            members["policy.fusion." + key] = NpyArray(float32: tensor.values, shape: tensor.shape)
        }
        members["policy.head.weight"] = NpyArray(float32: [1, 2, 3, 4], shape: [2, 2])
        members["policy.head.bias"] = NpyArray(float32: [.nan, 0], shape: [2])
        members["value.steps"] = NpyArray(int64: [7], shape: [1])
        return members
    }

    func load(_ members: [String: NpyArray], prefix: String?, allowNonfinite: Bool = false) throws -> LoadedWeights {
        try FusionModel.loadWeights(
            memberNames: Array(members.keys), array: { members[$0]! }, source: "agent.npz", prefix: prefix,
            configJSON: nil, allowNonfinite: allowNonfinite)
    }

    func message(_ body: () throws -> LoadedWeights) -> String? {
        #expect(throws: FusionError.self) { _ = try body() }?.description
    }

    @Test func tensorsOutsideThePrefixAreLeftAside() throws {
        let loaded = try load(agentMembers(), prefix: "policy.fusion.")
        #expect(loaded.model == (try ModelFactory.model(config)))
        #expect(loaded.leftAside == ["policy.head.bias", "policy.head.weight", "value.steps"])
        #expect(loaded.summary == "weights agent.npz: 26 tensors under the prefix \"policy.fusion.\" used, 3 outside it left aside (policy.head.bias, policy.head.weight, value.steps)")
        var plain: [String: NpyArray] = ["config": NpyArray(string: config.jsonString())]
        for (key, tensor) in ModelFactory.tensors(config) {
            plain[key] = NpyArray(float32: tensor.values, shape: tensor.shape)
        }
        #expect(try load(plain, prefix: nil).summary == "weights agent.npz: 26 tensors used")
    }

    @Test func insideThePrefixEveryTensorMustBeTheModels() {
        var extra = agentMembers()
        extra["policy.fusion.fusor.blocks.0.attn.dropout"] = NpyArray(float32: [0], shape: [1])
        #expect(message { try load(extra, prefix: "policy.fusion.") } == "agent.npz: unexpected weight \"policy.fusion.fusor.blocks.0.attn.dropout\": not a tensor of the fusion model")
        var missing = agentMembers()
        missing["policy.fusion.fusor.blocks.1.norm2.weight"] = nil
        #expect(message { try load(missing, prefix: "policy.fusion.") } == "agent.npz: missing weight \"policy.fusion.fusor.blocks.1.norm2.weight\": expected shape (36,) from the configuration's (proj_dim,), block 1 of n_blocks = 2")
        // A prefix that takes in the policy head too: the head is inside it and is not the model's.
        #expect(message { try load(agentMembers(), prefix: "policy.") } == "agent.npz: unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
        #expect(message { try load(agentMembers(), prefix: "actor.") } == "agent.npz: no tensor starts with the prefix \"actor.\" (all 29 tensors are outside it, such as \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\")")
    }

    @Test func aPrefixedConfigCopyIsAccepted() throws {
        var members = agentMembers()
        members["policy.fusion.config"] = members["config"]
        members["config"] = nil
        #expect(try load(members, prefix: "policy.fusion.").leftAside.count == 3)
    }

    @Test func nonFiniteWeightsAreErrorsUnlessAllowed() throws {
        for (value, text) in [(Float.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf")] {
            var members = agentMembers()
            var values = ModelFactory.tensors(config)["fusor.blocks.1.ffn.0.weight"]!.values
            values[3 * 36 + 5] = value
            members["policy.fusion.fusor.blocks.1.ffn.0.weight"] = NpyArray(float32: values, shape: [44, 36])
            #expect(message { try load(members, prefix: "policy.fusion.") } == "agent.npz: weight \"policy.fusion.fusor.blocks.1.ffn.0.weight\": non-finite value \(text) at [3, 5]")
            #expect(try load(members, prefix: "policy.fusion.", allowNonfinite: true).model.blocks.count == 2)
        }
        // float64 beyond float32's range becomes inf once converted.
        var members = agentMembers()
        members["policy.fusion.fusor.blocks.0.norm1.bias"] = NpyArray(float64: [Double](repeating: 0, count: 35) + [1e300], shape: [36])
        #expect(message { try load(members, prefix: "policy.fusion.") } == "agent.npz: weight \"policy.fusion.fusor.blocks.0.norm1.bias\": non-finite value inf at [35]")
    }

    @Test func theFiniteScanFindsTheFirstBadElementAtEveryPosition() {
        for count in [1, 7, 8, 9, 31, 64, 100] {
            for position in 0..<count {
                var values = [Float](repeating: 1.5, count: count)
                values[position] = position % 2 == 0 ? .nan : -.infinity
                if position + 1 < count { values[position + 1] = .infinity }
                #expect(values.withUnsafeBufferPointer(firstNonFinite) == position)
                // The same values 1–3 bytes past an aligned address, as in an np.savez member.
                for offset in 1..<4 {
                    let bytes = [UInt8](repeating: 0, count: offset) + values.withUnsafeBytes { Array($0) }
                    #expect(bytes.withUnsafeBytes { firstNonFinite($0.baseAddress! + offset, count: count) } == position)
                }
            }
            let finite = (0..<count).map { Float(bitPattern: 0x7F7F_FFFF - UInt32($0)) }
            #expect(finite.withUnsafeBufferPointer(firstNonFinite) == nil)
        }
    }
}
