import Foundation
import NpyIO
import Testing
import TestSupport
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
        #expect(error?.description == "\(archive.file): no configuration: the weights file has no \"config\" entry and no configuration JSON was given; give one with --config FILE (a JSON object, docs/model.md \"Configuration\")")
    }

    @Test func prefixIsStrippedAndItsAbsenceExplained() throws {
        let archive = try archive("prefix")
        let model = try FusionModel.load(from: archive, prefix: "policy.fusion.", configJSON: nil)
        #expect(model.config.nBlocks == model.blocks.count)
        let error = #expect(throws: FusionError.self) {
            try FusionModel.load(from: archive, prefix: nil, configJSON: nil)
        }
        #expect(error?.description.hasPrefix("\(archive.file): unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like") == true)
        let wrong = #expect(throws: FusionError.self) {
            try FusionModel.load(from: archive, prefix: "policy.", configJSON: nil)
        }
        #expect(wrong?.description == "\(archive.file): unexpected weight \"policy.fusion.fusor.blocks.0.attn.in_proj_bias\": not a tensor of the fusion model; it looks like \"fusor.blocks.0.attn.in_proj_bias\" under the prefix \"policy.fusion.\", which must be named to be stripped")
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

    /// Every tensor of `model`, in a fixed order.
    static func tensors(of model: FusionModel) -> [Tensor] {
        var all = [model.textProjection.weight, model.visionProjection.weight]
        for block in model.blocks {
            all += [block.attention.inProjWeight, block.attention.outProj.weight, block.feedForward.expand.weight,
                    block.feedForward.contract.weight, block.norm1.weight, block.norm1.bias, block.norm2.weight, block.norm2.bias]
            all += [block.attention.inProjBias, block.attention.outProj.bias, block.feedForward.expand.bias,
                    block.feedForward.contract.bias].compactMap { $0 }
        }
        return all + [model.finalNorm?.weight, model.finalNorm?.bias].compactMap { $0 }
    }

    /// The same weights read in place from an aligned archive, read in place from unaligned members
    /// (numpy's layout: the kernels load them bytewise) and converted from float64 give the same
    /// model and the same bits from the engine (1 and 2 threads, fresh and packed) and the reference.
    @Test func weightsReadInPlaceCopiedOrConvertedGiveTheSameBits() throws {
        let config = EngineFixtures.config(heads: 4, headDim: 12, img: 53, finalNorm: true)
        let tensors = ModelFactory.tensors(config, seed: 5)
        func archive(alignment: Int, float64: Bool = false) throws -> NpzArchive {
            var writer = NpzWriter(alignment: alignment)
            for key in tensors.keys.sorted() {
                let tensor = tensors[key]!
                writer.add(key, float64 ? NpyArray(float64: tensor.values.map(Double.init), shape: tensor.shape)
                                        : NpyArray(float32: tensor.values, shape: tensor.shape))
            }
            writer.add("config", NpyArray(string: config.jsonString()))
            return try NpzArchive(bytes: try writer.encode(), origin: "w.npz")
        }
        let inPlace = try FusionModel.load(from: archive(alignment: 64), prefix: nil, configJSON: nil)
        let numpyLayout = try FusionModel.load(from: archive(alignment: 1), prefix: nil, configJSON: nil)
        let converted = try FusionModel.load(from: archive(alignment: 64, float64: true), prefix: nil, configJSON: nil)
        let readInPlace = [inPlace, numpyLayout, converted].map { Self.tensors(of: $0).filter { $0.isReadInPlace }.count }
        #expect(readInPlace[0] == Self.tensors(of: inPlace).count)
        #expect(readInPlace[1] == readInPlace[0])
        let misaligned = Self.tensors(of: numpyLayout).filter { $0.withUnsafeRawElements { Int(bitPattern: $0) % 4 != 0 } }
        #expect(!misaligned.isEmpty, "numpy's layout left every member 4-byte aligned; the test needs some that are not")
        #expect(readInPlace[2] == 0)
        #expect(inPlace == numpyLayout && inPlace == converted)

        let batch = EngineFixtures.batch(config, batch: 3, frames: 9, textLengths: [4, 1, 3], imageLengths: [9, 2, 5], seed: 8)
        let expected = try EngineFixtures.engine(FusionEngine(model: numpyLayout, threads: 1), batch)
        let expectedReference = try EngineFixtures.reference(numpyLayout, batch)
        for model in [inPlace, numpyLayout, converted] {
            for threads in [1, 2] {
                let engine = FusionEngine(model: model, threads: threads)
                for run in 0..<2 {  // the second run reads packed copies
                    let result = try EngineFixtures.engine(engine, batch)
                    #expect(EngineFixtures.sameBits(result.output.values, expected.output.values),
                            "threads \(threads), run \(run): \(EngineFixtures.firstDifference(result.output.values, expected.output.values))")
                    #expect(EngineFixtures.sameBits(result.attention!.values, expected.attention!.values))
                }
            }
            let reference = try EngineFixtures.reference(model, batch)
            #expect(EngineFixtures.sameBits(reference.output.values, expectedReference.output.values))
        }
    }

    /// A model read in place keeps the archive's memory map alive after the archive is gone.
    @Test func aModelReadInPlaceOutlivesItsArchive() throws {
        let config = EngineFixtures.config(heads: 2, headDim: 8)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("w.npz")
        var writer = NpzWriter(alignment: 64)
        for (key, tensor) in WeightInitializer.stateDict(config: config, seed: 4) {
            writer.add(key, NpyArray(float32: tensor.values, shape: tensor.shape))
        }
        writer.add("config", NpyArray(string: config.jsonString()))
        try writer.write(to: path)
        let model = try FusionModel.load(from: try NpzArchive(path: path), prefix: nil, configJSON: nil)
        #expect(model.textProjection.weight.isReadInPlace)
        let batch = EngineFixtures.batch(config, batch: 2, frames: 3, seed: 2)
        let result = try EngineFixtures.engine(FusionEngine(model: model, threads: 2), batch)
        let direct = try FusionModel(config: config, tensors: Dictionary(uniqueKeysWithValues: WeightInitializer.stateDict(config: config, seed: 4).map { ($0.key, $0.value) }))
        #expect(EngineFixtures.sameBits(result.output.values, try EngineFixtures.engine(FusionEngine(model: direct, threads: 2), batch).output.values))
    }
}
