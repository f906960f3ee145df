import Foundation
import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// The golden fixtures (located by TestSupport's ``GoldenCase``) as the library tests read them.
enum GoldenFixtures {
    static func directory(_ name: String) -> String { GoldenCase.root.appendingPathComponent(name).path }

    /// Every shipped case (fixtures/golden/MANIFEST.json), sorted.
    static let cases = GoldenCase.names
    /// The shipped plain (not per-step) cases.
    static let plainCases = GoldenCase.plainNames

    static func model(_ golden: GoldenCase) throws -> FusionModel {
        let dir = directory(golden.case)
        let archive = try NpzArchive(path: dir + "/" + golden.weights)
        let configJSON = try golden.config_file.map {
            try String(contentsOfFile: dir + "/" + $0, encoding: .utf8)
        }
        return try FusionModel.load(from: archive, prefix: golden.prefix, configJSON: configJSON)
    }

    static func array(_ golden: GoldenCase, _ file: String?) throws -> NpyArray? {
        try file.map { try NpyFile.read(path: directory(golden.case) + "/" + $0) }
    }

    /// The case's inputs (separate files), checked against `model`.
    static func inputs(_ golden: GoldenCase, model: FusionModel) throws -> FusionInputs {
        try FusionInputs(
            text: try array(golden, golden.inputs.text)!,
            images: try array(golden, golden.inputs.images)!,
            textLengths: try array(golden, golden.inputs.text_lengths)?.intElements(),
            textMask: try array(golden, golden.inputs.text_mask),
            imageLengths: try array(golden, golden.inputs.image_lengths)?.intElements(),
            model: model)
    }

    /// Expects `result` within `path`'s budgets of the case's PyTorch outputs (`GoldenPath`: output and
    /// attention maps, abs + rel) and prints the observed errors after `label`.
    static func expectMatches(_ result: FusionResult, _ golden: GoldenCase, path: GoldenPath, label: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expectedOutput = try array(golden, golden.expected.output)!
        #expect(result.output.shape == expectedOutput.shape, sourceLocation: sourceLocation)
        let output = goldenError(result.output.values, try expectedOutput.float64Elements())
        var line = "\(label) [\(path.rawValue)] \(golden.case): output scaled error \(output.scaled) (max abs \(output.absolute)) at \(output.index)"
        #expect(output.scaled <= path.outputBudget,
                "\(golden.case) [\(path.rawValue)]: output error \(output.scaled) at flat index \(output.index) exceeds the budget \(path.outputBudget)",
                sourceLocation: sourceLocation)
        if let expectedAttention = try array(golden, golden.expected.attention) {
            let attention = try #require(result.attention, sourceLocation: sourceLocation)
            #expect(attention.shape == expectedAttention.shape, sourceLocation: sourceLocation)
            let error = goldenError(attention.values, try expectedAttention.float64Elements())
            line += ", attention scaled error \(error.scaled) (max abs \(error.absolute)) at \(error.index)"
            #expect(error.scaled <= path.attentionBudget(case: golden.case),
                    "\(golden.case) [\(path.rawValue)]: attention error \(error.scaled) at flat index \(error.index) exceeds the budget \(path.attentionBudget(case: golden.case))",
                    sourceLocation: sourceLocation)
        }
        print(line)
    }
}

@Suite struct GoldenTests {
    /// The 31 cases MANIFEST.json lists are exactly the folders holding a case.json, and each loads.
    @Test func everyShippedCaseLoads() throws {
        let manifest = try #require(GoldenCase.manifest, "fixtures/golden/MANIFEST.json cannot be read")
        #expect(manifest.count == 31)
        #expect(GoldenFixtures.cases == GoldenCase.folderNames,
                "MANIFEST.json: \(GoldenFixtures.cases); folders: \(GoldenCase.folderNames)")
        for entry in manifest {
            let golden = try GoldenCase.load(entry.case)
            #expect(golden.per_step == entry.per_step, "\(entry.case)")
            _ = try GoldenFixtures.inputs(golden, model: GoldenFixtures.model(golden))
        }
        #expect(GoldenFixtures.plainCases.count == manifest.count - 3)
    }

    /// scripts/reference/golden_checks.py on its own: every shipped case's stored outputs against a float64
    /// NumPy forward pass (scripts/spec_numpy.py), attention rows summing to 1, masked weights 0.
    @Test func goldenFilesAgreeWithNumpyFloat64() throws {
        try PythonNumpy.require()
        let script = GoldenCase.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/reference/golden_checks.py").path
        let output = try PythonNumpy.runFile(script, arguments: [GoldenCase.root.path])
        #expect(output.hasSuffix("golden_checks: 31 cases agree with NumPy float64\n"), "\(output)")
    }

    @Test(arguments: GoldenFixtures.cases)
    func matchesPyTorch(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        try inputs.checkFinite()
        let result = try model.fuseReference(
            inputs, options: FusionOptions(perStep: golden.per_step, attention: golden.expected.attention != nil))
        try GoldenFixtures.expectMatches(result, golden, path: .reference, label: "golden")
    }

    @Test func bundleMembersGiveTheSameResultAsSeparateFiles() throws {
        let golden = try GoldenCase.load("bundle_batch")
        let bundle = try NpzArchive(path: GoldenFixtures.directory("bundle_batch") + "/" + #require(golden.batch))
        let model = try GoldenFixtures.model(golden)
        func optional(_ name: String) throws -> NpyArray? {
            bundle.contains(name) ? try bundle.array(named: name) : nil
        }
        let fromBundle = try FusionInputs(
            text: bundle.array(named: "text"), images: bundle.array(named: "images"),
            textLengths: try optional("text_lengths")?.intElements(), textMask: try optional("text_mask"),
            imageLengths: try optional("image_lengths")?.intElements(), model: model)
        let fromFiles = try GoldenFixtures.inputs(golden, model: model)
        let options = FusionOptions(attention: true)
        #expect(try model.fuseReference(fromBundle, options: options) == model.fuseReference(fromFiles, options: options))
    }
}
