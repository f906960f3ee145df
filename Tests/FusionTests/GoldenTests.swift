import Foundation
import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// Where the golden fixtures live, found from this file's path (Tests/FusionTests/ → repository root).
enum GoldenFixtures {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("fixtures/golden").path
    }()

    static func directory(_ name: String) -> String { root + "/" + name }

    /// Every directory under fixtures/golden holding a case.json, sorted.
    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: directory($0) + "/case.json") }.sorted()
    }()

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
}

@Suite struct GoldenTests {
    @Test func everyRequiredCaseIsPresent() {
        #expect(GoldenFixtures.cases.count >= 30, "found \(GoldenFixtures.cases) under \(GoldenFixtures.root)")
    }

    @Test(arguments: GoldenFixtures.cases)
    func matchesPyTorch(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let model = try GoldenFixtures.model(golden)
        let inputs = try FusionInputs(
            text: try GoldenFixtures.array(golden, golden.inputs.text)!,
            images: try GoldenFixtures.array(golden, golden.inputs.images)!,
            textLengths: try GoldenFixtures.array(golden, golden.inputs.text_lengths)?.intElements(),
            textMask: try GoldenFixtures.array(golden, golden.inputs.text_mask),
            imageLengths: try GoldenFixtures.array(golden, golden.inputs.image_lengths)?.intElements(),
            model: model)
        try inputs.checkFinite()
        let result = try model.fuseReference(
            inputs, options: FusionOptions(perStep: golden.per_step, attention: golden.expected.attention != nil))

        let expectedOutput = try GoldenFixtures.array(golden, golden.expected.output)!
        #expect(result.output.shape == expectedOutput.shape)
        let outputError = maxAbsError(result.output.values, try expectedOutput.float64Elements())
        var line = "golden \(caseName): output max abs error \(outputError.error) at \(outputError.index)"
        #expect(outputError.error <= 1e-4, "\(caseName): output max abs error \(outputError.error) at flat index \(outputError.index)")
        if let expectedAttention = try GoldenFixtures.array(golden, golden.expected.attention) {
            let attention = try #require(result.attention)
            #expect(attention.shape == expectedAttention.shape)
            let attentionError = maxAbsError(attention.values, try expectedAttention.float64Elements())
            line += ", attention max abs error \(attentionError.error) at \(attentionError.index)"
            #expect(attentionError.error <= 1e-5, "\(caseName): attention max abs error \(attentionError.error) at flat index \(attentionError.index)")
        }
        print(line)
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
        let fromFiles = try FusionInputs(
            text: try GoldenFixtures.array(golden, golden.inputs.text)!,
            images: try GoldenFixtures.array(golden, golden.inputs.images)!,
            textLengths: try GoldenFixtures.array(golden, golden.inputs.text_lengths)?.intElements(),
            textMask: try GoldenFixtures.array(golden, golden.inputs.text_mask),
            imageLengths: try GoldenFixtures.array(golden, golden.inputs.image_lengths)?.intElements(),
            model: model)
        let options = FusionOptions(attention: true)
        #expect(try model.fuseReference(fromBundle, options: options) == model.fuseReference(fromFiles, options: options))
    }
}
