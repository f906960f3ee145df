import NpyIO
import Testing
@testable import Fusion

@Suite struct NpyArrayFloatSourceTests {
    @Test func floatIntAndBoolArraysReadAsFloat32() throws {
        let floats = NpyArray(float64: [0.1, -2, 3e40, 4], shape: [2, 2])
        #expect(floats.shape == [2, 2])
        #expect(try floats.elements(in: 1..<4) == [-2, .infinity, 4])
        #expect(try floats.elements(in: 0..<1) == [Float(0.1)])
        let ints = NpyArray(int64: [0, 1, 7, -3], shape: [4])
        #expect(try ints.elements(in: 0..<4) == [0, 1, 7, -3])
        let bools = NpyArray(bool: [true, false, true], shape: [1, 3])
        #expect(try bools.elements(in: 0..<3) == [1, 0, 1])
    }

    @Test func masksOfAnyNumericTypeSelectTheSameToken() throws {
        let model = try ModelFactory.model()
        let text = ModelFactory.normal([2, 3, 20], seed: 1)
        let images = ModelFactory.normal([2, 2, 50], seed: 2)
        let masks: [any FloatSource] = [
            NpyArray(bool: [true, true, false, false, true, false], shape: [2, 3]),
            NpyArray(int32: [1, 1, 0, 0, 5, 0], shape: [2, 3]),
            NpyArray(float64: [1, 1, 0, 0, 0.5, 0], shape: [2, 3]),
        ]
        for mask in masks {
            let inputs = try FusionInputs(
                text: text, images: images, textLengths: nil, textMask: mask, imageLengths: nil, model: model)
            #expect(inputs.pooledTextIndex == [1, 1])
        }
    }

    @Test func stringArraysAreRefused() {
        let text = NpyArray(string: "not numbers")
        #expect(throws: NpyError.self) { _ = try text.elements(in: 0..<1) }
    }
}
