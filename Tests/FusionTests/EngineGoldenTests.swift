import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// The fast engine against PyTorch's golden outputs (the same budgets as the reference path).
@Suite struct EngineGoldenTests {
    /// Plain cases with plan A named explicitly (`--plan x-formed`), per-step cases in per-step mode
    /// (whatever plan the engine runs there), each against its own budget.
    @Test(arguments: GoldenFixtures.cases)
    func engineMatchesPyTorch(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        let engine = FusionEngine(model: model, threads: 2)
        // Plan A for every sample, plan C for every sample, then the automatic per-sample choice (which
        // may mix in plan B′ in plain mode, plan C in per-step mode).
        for plan in [FusionPlanChoice.xFormed, .kvFormed, .automatic] {
            let run = try engine.fuse(
                inputs,
                options: FusionOptions(perStep: golden.per_step, attention: golden.expected.attention != nil, plan: plan))
            if plan == .xFormed { #expect(run.plan.sampleKinds.allSatisfy { $0 == .xFormed }) }
            if plan == .kvFormed { #expect(run.plan.sampleKinds.allSatisfy { $0 == .kvFormed }) }
            let path: GoldenPath =
                plan == .kvFormed ? .kvFormed : golden.per_step ? .perStep : plan == .xFormed ? .xFormed : .automatic
            try GoldenFixtures.expectMatches(run.result, golden, path: path, label: "engine golden, plan \(run.plan.runName)")
        }
    }

    /// numpy's `savez` stores members at whatever offset the zip layout gives: in bundle_batch the
    /// text and images data start 2 bytes past a multiple of 4 (and the weights archive has members
    /// 2 or 3 bytes off), so they cannot be handed to the kernels in place, which take only 4-byte
    /// aligned float pointers. Read through `withFloat32Elements` (a copy) and the loader, the
    /// engine must give the same bits as from the aligned .npy files, and match PyTorch.
    @Test func misalignedArchiveMembersGiveTheSameBitsAsAlignedFiles() throws {
        let golden = try GoldenCase.load("bundle_batch")
        let directory = GoldenFixtures.directory("bundle_batch")
        let bundle = try NpzArchive(path: directory + "/" + #require(golden.batch))
        let text = try bundle.array(named: "text")
        let images = try bundle.array(named: "images")
        for array in [text, images] {
            // float32, little-endian, C order: only the alignment keeps the data from being used in place.
            #expect(array.dtype == .float32 && array.byteOrder == .little && array.isCContiguous, "\(array.origin)")
            #expect(!array.isFloat32InPlace, "\(array.origin) is aligned; the test needs a misaligned member")
        }
        let weights = try NpzArchive(path: directory + "/" + golden.weights)
        #expect(try !weights.array(named: "text_proj.proj.weight").isFloat32InPlace)
        let model = try GoldenFixtures.model(golden)
        let fromBundle = try FusionInputs(
            text: text, images: images, textLengths: nil, textMask: try bundle.array(named: "text_mask"),
            imageLengths: try bundle.array(named: "image_lengths").intElements(), model: model)
        let fromFiles = try GoldenFixtures.inputs(golden, model: model)
        let engine = FusionEngine(model: model, threads: 2)
        let options = FusionOptions(attention: true, plan: .xFormed)
        let viaBundle = try engine.fuse(fromBundle, options: options)
        let viaFiles = try engine.fuse(fromFiles, options: options)
        #expect(viaBundle.plan.kind == .xFormed)
        #expect(EngineFixtures.sameBits(viaBundle.result.output.values, viaFiles.result.output.values),
                "\(EngineFixtures.firstDifference(viaBundle.result.output.values, viaFiles.result.output.values))")
        #expect(EngineFixtures.sameBits(try #require(viaBundle.result.attention).values,
                                        try #require(viaFiles.result.attention).values))
        try GoldenFixtures.expectMatches(viaBundle.result, golden, path: .xFormed, label: "engine, misaligned .npz members")
    }

    @Test func fuseRoutesToTheEngine() throws {
        let golden = try GoldenCase.load("pre_gelu_batch")
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        let options = FusionOptions(attention: true, threads: 2)
        let viaModel = try model.fuse(inputs, options: options)
        let viaEngine = try FusionEngine(model: model, threads: 1).fuse(inputs, options: options).result
        #expect(EngineFixtures.sameBits(viaModel.output.values, viaEngine.output.values))
        #expect(EngineFixtures.sameBits(viaModel.attention!.values, viaEngine.attention!.values))
        var referenceOptions = options
        referenceOptions.plan = .reference
        #expect(try model.fuse(inputs, options: referenceOptions) == model.fuseReference(inputs, options: options))
    }
}
