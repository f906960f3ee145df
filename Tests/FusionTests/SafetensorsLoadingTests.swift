import Foundation
import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// Loading `.safetensors` weights written by the `safetensors` package (fixtures/safetensors, made by
/// scripts/reference/make_safetensors_fixtures.py): the same model, bit for bit, as the .npz holding the same
/// values, the same checks and errors naming the file.
@Suite struct SafetensorsLoadingTests {
    func path(_ name: String) -> String { fixturesURL("safetensors/\(name)").path }

    func safetensors(_ name: String, prefix: String? = nil, configJSON: String? = nil) throws -> LoadedWeights {
        try FusionModel.loadWeights(from: SafetensorsFile(path: path(name)), prefix: prefix, configJSON: configJSON)
    }

    func npz(_ name: String) throws -> FusionModel {
        try FusionModel.load(from: NpzArchive(path: path(name)), prefix: nil, configJSON: nil)
    }

    /// The fused output of `model` on the fixture inputs, plain mode.
    func fused(_ model: FusionModel) throws -> [Float] {
        let inputs = try FusionInputs(
            text: NpyFile.read(path: path("text.npy")), images: NpyFile.read(path: path("images.npy")),
            textLengths: nil, textMask: nil, imageLengths: nil, model: model)
        return try FusionEngine(model: model, threads: 2).fuse(inputs, options: FusionOptions()).result.output.values
    }

    @Test(arguments: [("f32", "weights.npz"), ("f16", "f16.npz"), ("bf16", "bf16.npz"), ("f64", "f64.npz")])
    func everyDTypeGivesTheModelOfItsNpzTwin(_ name: String, _ twin: String) throws {
        let loaded = try safetensors("\(name).safetensors")
        let expected = try npz(twin)
        #expect(loaded.model == expected)
        #expect(loaded.leftAside.isEmpty)
        #expect(EngineFixtures.sameBits(try fused(loaded.model), try fused(expected)))
        let readInPlace = ArchiveLoadingTests.tensors(of: loaded.model).filter(\.isReadInPlace).count
        // F32 from the map, BF16 from the float32 copy made once when read: neither is copied again.
        #expect(readInPlace == (["f32", "bf16"].contains(name) ? ArchiveLoadingTests.tensors(of: loaded.model).count : 0))
    }

    @Test func float32MatchesThePyTorchReference() throws {
        let output = try fused(try safetensors("f32.safetensors").model)
        let expected = try NpyFile.read(path: path("expected.npy")).float32Elements()
        assertClose(output, expected, atol: 1e-5)
    }

    @Test func anAgentCheckpointLoadsWithItsPrefix() throws {
        let loaded = try safetensors("agent.safetensors", prefix: "policy.fusion.")
        #expect(loaded.model == (try npz("weights.npz")))
        #expect(loaded.leftAside == ["policy.head.bias", "policy.head.weight", "value.steps"])
        let error = #expect(throws: FusionError.self) { try safetensors("agent.safetensors") }
        #expect(error?.description == "\(path("agent.safetensors")): unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
    }

    @Test func theConfigurationComesFromMetadataOrJSON() throws {
        let missing = #expect(throws: FusionError.self) { try safetensors("bare.safetensors") }
        #expect(missing?.description == "\(path("bare.safetensors")): no configuration: the weights file has no \"config\" entry and no configuration JSON was given; give one with --config FILE (a JSON object, docs/model.md \"Configuration\")")
        let config = try String(contentsOfFile: path("config.json"), encoding: .utf8)
        #expect(try safetensors("bare.safetensors", configJSON: config).model == (try npz("weights.npz")))
        var contradicting = try FusionConfig.decode(json: config, origin: "c")
        contradicting.ffnDim = 40
        // A configuration beside the file's own must agree with it; the same one again is accepted.
        #expect(try safetensors("f32.safetensors", configJSON: config).model == (try npz("weights.npz")))
        let conflict = #expect(throws: FusionError.self) { try safetensors("f32.safetensors", configJSON: contradicting.jsonString()) }
        #expect(conflict?.description == "configuration JSON: the configuration contradicts the weights file's own (\(path("f32.safetensors")):__metadata__.config): ffn_dim 40 (file: 48); drop --config to use the file's configuration, or correct the one that is wrong")
        let shape = #expect(throws: FusionError.self) { try safetensors("bare.safetensors", configJSON: contradicting.jsonString()) }
        #expect(shape?.description == "\(path("bare.safetensors")): weight \"fusor.blocks.0.ffn.0.weight\": expected shape (40, 16) from the configuration's (ffn_dim, proj_dim), block 0 of n_blocks = 2, found (48, 16)")
    }

    @Test func configurationErrorsNameTheMetadataEntry() throws {
        let header = #"{"__metadata__": {"config": "{\"proj_dim\": 0}"}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#
        var bytes = Array(header.utf8)
        bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bytes.count) >> ($0 * 8)) } + bytes + [0, 0, 0, 0]
        let file = try SafetensorsFile(bytes: bytes, origin: "m.safetensors")
        let error = #expect(throws: FusionError.self) { try FusionModel.loadWeights(from: file, prefix: nil, configJSON: nil) }
        #expect(error?.description == "m.safetensors:__metadata__.config: configuration key \"proj_dim\": expected an integer from 1 to 1048576, found 0")
    }

    /// The same file with one more space of header padding: every F32 tensor's data is then 1 byte off
    /// 4-byte alignment; each is still read in place (the kernels load weights bytewise; a float
    /// pointer gets an aligned copy), with the same bits.
    @Test func misalignedFloat32TensorsAreReadInPlaceWithTheSameBits() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("f32.safetensors"))))
        let length = Int(original[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = original[8..<(8 + length)] + [0x20]
        let shifted = (0..<8).map { UInt8(truncatingIfNeeded: (length + 1) >> ($0 * 8)) } + header + original[(8 + length)...]
        let file = try SafetensorsFile(bytes: Array(shifted), origin: "shifted.safetensors")
        #expect(file.dataStart % 4 == 1)
        let loaded = try FusionModel.loadWeights(from: file, prefix: nil, configJSON: nil).model
        let tensors = ArchiveLoadingTests.tensors(of: loaded)
        #expect(tensors.allSatisfy { $0.isReadInPlace })
        #expect(tensors.allSatisfy { $0.withUnsafeRawElements { Int(bitPattern: $0) % 4 == 1 } })
        #expect(loaded == (try npz("weights.npz")))
        #expect(EngineFixtures.sameBits(try fused(loaded), try fused(try npz("weights.npz"))))
    }
}
