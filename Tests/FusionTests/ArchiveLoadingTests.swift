import Foundation
import NpyIO
import Testing
@testable import Fusion

/// Loading through real `.npz` archives: the golden files and archives written by `NpzWriter`.
@Suite struct ArchiveLoadingTests {
    func archive(_ caseName: String) throws -> NpzArchive {
        try NpzArchive(path: GoldenFixtures.directory(caseName) + "/weights.npz")
    }

    @Test func archiveWithoutConfigNamesTheFile() throws {
        let archive = try archive("config_file")
        let error = #expect(throws: FusionError.self) {
            try FusionModel.load(from: archive, prefix: nil, configJSON: nil)
        }
        #expect(error?.description == "\(archive.file): no configuration: the archive has no \"config\" member and no configuration JSON was given")
    }

    @Test func prefixIsStrippedAndItsAbsenceExplained() throws {
        let archive = try archive("prefix")
        let model = try FusionModel.load(from: archive, prefix: "policy.fusion.", configJSON: nil)
        #expect(model.config.nBlocks == model.blocks.count)
        let error = #expect(throws: FusionError.self) {
            try FusionModel.load(from: archive, prefix: nil, configJSON: nil)
        }
        #expect(error?.description.hasPrefix("unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the SPEC model; it looks like") == true)
        let wrong = #expect(throws: FusionError.self) {
            try FusionModel.load(from: archive, prefix: "policy.", configJSON: nil)
        }
        #expect(wrong?.description == "unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the SPEC model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
    }

    @Test func configMemberErrorsNameTheMember() throws {
        let archive = try archive("post_gelu_basic")
        let error = #expect(throws: FusionError.self) {
            try FusionModel.load(from: archive, prefix: nil, configJSON: #"{"norm_first": "yes"}"#, configOrigin: "cfg.json")
        }
        #expect(error?.description == "cfg.json: configuration key \"norm_first\": expected true or false, found \"yes\"")
    }

    @Test(arguments: [NpzWriter.Compression.stored, .deflated])
    func initialisedWeightsRoundTripThroughAnArchive(compression: NpzWriter.Compression) throws {
        let config = ModelFactory.smallConfig(normFirst: true, finalNorm: true, attnBias: false)
        var writer = NpzWriter(compression: compression)
        let dict = WeightInitializer.stateDict(config: config, seed: 99)
        for (key, tensor) in dict {
            writer.add("policy.fusion." + key, NpyArray(float32: tensor.values, shape: tensor.shape))
        }
        writer.add("config", NpyArray(string: config.jsonString()))
        let archive = try NpzArchive(bytes: try writer.encode(), origin: "init.npz")
        let loaded = try FusionModel.load(from: archive, prefix: "policy.fusion.", configJSON: nil)
        let direct = try FusionModel(config: config, tensors: Dictionary(uniqueKeysWithValues: dict.map { ($0.key, $0.value) }))
        #expect(loaded == direct)
    }
}
