import Foundation
import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// The golden fixtures (located by TestSupport's ``GoldenCase``) as the library tests read them.
enum GoldenFixtures {
    static func directory(_ name: String) -> String { GoldenCase.root.appendingPathComponent(name).path }

    /// Every directory under fixtures/golden holding a case.json, sorted.
    static let cases = GoldenCase.names

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

    /// Expects `result` within the golden budgets of the case's PyTorch outputs (output ≤ 1e-4, attention
    /// ≤ 1e-5, max abs error) and prints the observed errors after `label`.
    static func expectMatches(_ result: FusionResult, _ golden: GoldenCase, label: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expectedOutput = try array(golden, golden.expected.output)!
        #expect(result.output.shape == expectedOutput.shape, sourceLocation: sourceLocation)
        let outputError = maxAbsError(result.output.values, try expectedOutput.float64Elements())
        var line = "\(label) \(golden.case): output max abs error \(outputError.error) at \(outputError.index)"
        #expect(outputError.error <= 1e-4, "\(golden.case): output max abs error \(outputError.error) at flat index \(outputError.index)",
                sourceLocation: sourceLocation)
        if let expectedAttention = try array(golden, golden.expected.attention) {
            let attention = try #require(result.attention, sourceLocation: sourceLocation)
            #expect(attention.shape == expectedAttention.shape, sourceLocation: sourceLocation)
            let attentionError = maxAbsError(attention.values, try expectedAttention.float64Elements())
            line += ", attention max abs error \(attentionError.error) at \(attentionError.index)"
            #expect(attentionError.error <= 1e-5, "\(golden.case): attention max abs error \(attentionError.error) at flat index \(attentionError.index)",
                    sourceLocation: sourceLocation)
        }
        print(line)
    }
}

@Suite struct GoldenTests {
    @Test func everyRequiredCaseIsPresent() {
        #expect(GoldenFixtures.cases.count >= 30, "found \(GoldenFixtures.cases) under \(GoldenCase.root.path)")
    }

    @Test(arguments: GoldenFixtures.cases)
    func matchesPyTorch(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let model = try GoldenFixtures.model(golden)
        let inputs = try GoldenFixtures.inputs(golden, model: model)
        try inputs.checkFinite()
        let result = try model.fuseReference(
            inputs, options: FusionOptions(perStep: golden.per_step, attention: golden.expected.attention != nil))
        try GoldenFixtures.expectMatches(result, golden, label: "golden")
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
