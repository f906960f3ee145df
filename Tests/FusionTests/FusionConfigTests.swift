import Foundation
import Testing
@testable import Fusion

@Suite struct FusionConfigTests {
    @Test func emptyObjectGivesSpecDefaults() throws {
        let config = try FusionConfig.decode(json: "{}", origin: "c.json")
        #expect(config.imgLatentDim == 2048)
        #expect(config.txtLatentDim == 768)
        #expect(config.projDim == 768)
        #expect(config.nHeads == 8)
        #expect(config.nBlocks == 4)
        #expect(config.ffnDim == 3072)
        #expect(config.normFirst == false)
        #expect(config.activation == .gelu)
        #expect(config.layerNormEps == 1e-5)
        #expect(config.finalNorm == false)
        #expect(config.attnBias == true)
        #expect(config == FusionConfig())
    }

    @Test func readsEveryKey() throws {
        let json = """
            {"img_latent_dim": 50, "txt_latent_dim": 20, "proj_dim": 36, "n_heads": 3, "n_blocks": 2,
             "ffn_dim": 44, "norm_first": true, "activation": "gelu_tanh", "layer_norm_eps": 0.001,
             "final_norm": true, "attn_bias": false}
            """
        let config = try FusionConfig.decode(json: json, origin: "c.json")
        #expect(config.imgLatentDim == 50 && config.txtLatentDim == 20 && config.projDim == 36)
        #expect(config.nHeads == 3 && config.nBlocks == 2 && config.ffnDim == 44)
        #expect(config.normFirst && config.finalNorm && !config.attnBias)
        #expect(config.activation == .geluTanh)
        #expect(config.layerNormEps == 0.001)
        #expect(config.headDim == 12)
    }

    @Test func jsonStringIsSortedCompleteAndRoundTrips() throws {
        #expect(FusionConfig().jsonString() == """
            {"activation": "gelu", "attn_bias": true, "ffn_dim": 3072, "final_norm": false, "img_latent_dim": 2048, \
            "layer_norm_eps": 1e-05, "n_blocks": 4, "n_heads": 8, "norm_first": false, "proj_dim": 768, "txt_latent_dim": 768}
            """)
        let config = ModelFactory.smallConfig(normFirst: true, activation: .relu, finalNorm: true, attnBias: false)
        #expect(try FusionConfig.decode(json: config.jsonString(), origin: "x") == config)
    }

    @Test func unknownKeyIsNamed() {
        #expect(throws: FusionError.unknownConfigKey(origin: "config.json", key: "dropout")) {
            try FusionConfig.decode(json: #"{"proj_dim": 768, "dropout": 0.1}"#, origin: "config.json")
        }
        let message = FusionError.unknownConfigKey(origin: "config.json", key: "dropout").description
        #expect(message == "config.json: unknown configuration key \"dropout\" (known keys: activation, attn_bias, ffn_dim, final_norm, img_latent_dim, layer_norm_eps, n_blocks, n_heads, norm_first, proj_dim, txt_latent_dim)")
    }

    @Test func projDimMustDivideByHeads() {
        let error = #expect(throws: FusionError.self) {
            try FusionConfig.decode(json: #"{"proj_dim": 36, "n_heads": 5}"#, origin: "w.npz:config")
        }
        #expect(error?.description == "w.npz:config: configuration key \"proj_dim\": expected a multiple of n_heads = 5, found 36")
    }

    @Test func unknownActivationIsRejected() {
        let error = #expect(throws: FusionError.self) {
            try FusionConfig.decode(json: #"{"activation": "swish"}"#, origin: "config.json")
        }
        #expect(error?.description == "config.json: configuration key \"activation\": expected one of \"gelu\", \"gelu_tanh\", \"relu\", found \"swish\"")
    }

    @Test func wrongTypesAreRejected() {
        let cases: [(String, String)] = [
            (#"{"n_heads": true}"#, "configuration key \"n_heads\": expected an integer, found true"),
            (#"{"n_heads": 2.5}"#, "configuration key \"n_heads\": expected an integer, found 2.5"),
            (#"{"norm_first": 1}"#, "configuration key \"norm_first\": expected true or false, found 1"),
            (#"{"layer_norm_eps": "1e-5"}"#, "configuration key \"layer_norm_eps\": expected a number, found \"1e-5\""),
            (#"{"n_blocks": 0}"#, "configuration key \"n_blocks\": expected an integer from 1 to 4096, found 0"),
            (#"{"layer_norm_eps": 0}"#, "configuration key \"layer_norm_eps\": expected a finite number > 0, found 0.0"),
            (#"{"ffn_dim": -3}"#, "configuration key \"ffn_dim\": expected an integer from 1 to 1048576, found -3"),
        ]
        for (json, message) in cases {
            let error = #expect(throws: FusionError.self) { try FusionConfig.decode(json: json, origin: "c") }
            #expect(error?.description == "c: " + message, "\(json)")
        }
    }

    @Test func malformedJSONIsRejected() {
        let notJSON = #expect(throws: FusionError.self) { try FusionConfig.decode(json: "{proj_dim: 3", origin: "c") }
        #expect(notJSON?.description == "c: the configuration is not a JSON object: invalid JSON")
        let array = #expect(throws: FusionError.self) { try FusionConfig.decode(json: "[1, 2]", origin: "c") }
        #expect(array?.description == "c: the configuration is not a JSON object: found an array instead")
    }

    /// The configuration reader is NpyIO's strict JSON parser (no Foundation): integer-valued numbers
    /// are integers as they were with JSONDecoder, a leading byte order mark is skipped, and a key given
    /// twice is an error rather than a silent choice.
    @Test func integralNumbersBOMAndDuplicateKeys() throws {
        let config = try FusionConfig.decode(json: "\u{FEFF}{\"n_heads\": 4.0, \"n_blocks\": 1e1}", origin: "c")
        #expect(config.nHeads == 4 && config.nBlocks == 10)
        let duplicate = #expect(throws: FusionError.self) {
            try FusionConfig.decode(json: #"{"n_heads": 4, "n_heads": 8}"#, origin: "c")
        }
        #expect(duplicate?.description == "c: the configuration is not a JSON object: the key \"n_heads\" appears twice")
        let comment = #expect(throws: FusionError.self) {
            try FusionConfig.decode(json: "{\"n_heads\": 4, }", origin: "c")
        }
        #expect(comment?.description == "c: the configuration is not a JSON object: invalid JSON")
    }

    @Test func validateAcceptsDefaultsAndRejectsBadHeads() throws {
        try FusionConfig().validate()
        var config = FusionConfig()
        config.nHeads = 7
        #expect(throws: FusionError.invalidConfigValue(
            origin: "configuration", key: "proj_dim", expected: "a multiple of n_heads = 7", found: "768")) {
            try config.validate()
        }
    }

    @Test func decodableConformanceUsesTheSameRules() throws {
        let config = try JSONDecoder().decode(FusionConfig.self, from: Data(#"{"n_heads": 4}"#.utf8))
        #expect(config.nHeads == 4 && config.projDim == 768)
        #expect(throws: FusionError.unknownConfigKey(origin: "configuration", key: "heads")) {
            try JSONDecoder().decode(FusionConfig.self, from: Data(#"{"heads": 4}"#.utf8))
        }
    }

    @Test func hostileSizesAreRefusedByName() {
        let cases: [(String, String)] = [
            (#"{"n_blocks": 1000000000000}"#, "configuration key \"n_blocks\": expected an integer from 1 to 4096, found 1000000000000"),
            (#"{"proj_dim": 9223372036854775807}"#, "configuration key \"proj_dim\": expected an integer from 1 to 1048576, found 9223372036854775807"),
            (#"{"proj_dim": 9223372036854775806, "n_heads": 2}"#, "configuration key \"proj_dim\": expected an integer from 1 to 1048576, found 9223372036854775806"),
            (#"{"ffn_dim": 1099511627776}"#, "configuration key \"ffn_dim\": expected an integer from 1 to 1048576, found 1099511627776"),
            (#"{"img_latent_dim": -9223372036854775808}"#, "configuration key \"img_latent_dim\": expected an integer from 1 to 1048576, found -9223372036854775808"),
            (#"{"txt_latent_dim": 1048577}"#, "configuration key \"txt_latent_dim\": expected an integer from 1 to 1048576, found 1048577"),
            (#"{"n_heads": 9223372036854775807}"#, "configuration key \"n_heads\": expected an integer from 1 to proj_dim = 768, found 9223372036854775807"),
            (#"{"n_blocks": 1e300}"#, "configuration key \"n_blocks\": expected an integer, found 1e+300"),
            (#"{"n_blocks": 100000000000000000000000}"#, "configuration key \"n_blocks\": expected an integer, found 1e+23"),
        ]
        for (json, message) in cases {
            let error = #expect(throws: FusionError.self) { try FusionConfig.decode(json: json, origin: "c") }
            #expect(error?.description == "c: " + message, "\(json)")
        }
    }

    @Test func weightCountMatchesTheTableAndIsOverflowChecked() throws {
        for config in [ModelFactory.smallConfig(), ModelFactory.smallConfig(finalNorm: true, attnBias: false), FusionConfig()] {
            #expect(config.weightCount() == config.expectedWeights().reduce(0) { $0 + $1.shape.reduce(1, *) })
        }
        var largest = FusionConfig()
        (largest.projDim, largest.ffnDim, largest.imgLatentDim, largest.txtLatentDim, largest.nBlocks) =
            (1 << 20, 1 << 20, 1 << 20, 1 << 20, 4096)
        try largest.validate()
        let count = try #require(largest.weightCount())
        #expect(count == 2 * (1 << 40) + 4096 * (6 * (1 << 40) + 10 * (1 << 20)))
        var overflowing = largest
        overflowing.nBlocks = Int.max / 2
        #expect(overflowing.weightCount() == nil)
        let error = #expect(throws: FusionError.self) {
            try largest.checkWeightsFit(bytesPerWeight: 4, limit: 1 << 30, origin: "c.json")
        }
        #expect(error?.description == "c.json: the configuration is too large: n_blocks = 4096, proj_dim = 1048576, ffn_dim = 1048576, img_latent_dim = 1048576, txt_latent_dim = 1048576 make \(count) weights, \(count * 4) bytes; at most 1073741824 bytes are available")
        try FusionConfig().checkWeightsFit(bytesPerWeight: 8, limit: 1 << 30, origin: "c.json")
    }
}
