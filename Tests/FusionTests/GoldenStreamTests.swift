import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// `FusionSession` (the path `fusectl stream` runs) against PyTorch's golden outputs: each sample of a
/// plain case is one episode, its valid frames appended one by one; the last step's vector and maps
/// are that sample's golden row, within `GoldenPath.stream`'s budgets.
@Suite struct GoldenStreamTests {
    @Test(arguments: GoldenFixtures.plainCases)
    func sessionMatchesPyTorch(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let model = try GoldenFixtures.model(golden)
        let text = try #require(try GoldenFixtures.array(golden, golden.inputs.text))
        let images = try #require(try GoldenFixtures.array(golden, golden.inputs.images))
        let textValues = try text.float32Elements(), imageValues = try images.float32Elements()
        let mask = try GoldenFixtures.array(golden, golden.inputs.text_mask)?.float32Elements()
        let textLengths = try GoldenFixtures.array(golden, golden.inputs.text_lengths)?.intElements()
        let imageLengths = try GoldenFixtures.array(golden, golden.inputs.image_lengths)?.intElements()
        let batch = text.shape[0], frames = images.shape[1]
        let frameShape = Array(images.shape.dropFirst(2))  // (img) or (P, img)
        let frameSize = frameShape.reduce(1, *), tokensPerFrame = images.shape.count == 4 ? images.shape[2] : 1
        let sampleText = Array(text.shape.dropFirst()), textSize = sampleText.reduce(1, *)
        let config = model.config
        let wantAttention = golden.expected.attention != nil
        let tokens = frames * tokensPerFrame
        var outputs: [Float] = []
        var maps: [Float] = []
        let engine = FusionEngine(model: model, threads: 2)
        for b in 0..<batch {
            var sampleMask: Tensor? = nil
            if let mask {
                let length = sampleText[0]
                sampleMask = Tensor(shape: [length], values: Array(mask[(b * length)..<((b + 1) * length)]))
            } else if let textLengths {
                let length = sampleText[0]
                sampleMask = Tensor(shape: [length], values: (0..<length).map { $0 < textLengths[b] ? 1 : 0 })
            }
            let session = try FusionSession(
                engine: engine, text: Tensor(shape: sampleText, values: Array(textValues[(b * textSize)..<((b + 1) * textSize)])),
                textMask: sampleMask)
            let valid = imageLengths?[b] ?? frames
            var last: (output: [Float], attention: Tensor?) = ([], nil)
            for t in 0..<valid {
                let start = (b * frames + t) * frameSize
                last = try session.append(frame: Tensor(shape: frameShape, values: Array(imageValues[start..<(start + frameSize)])),
                                          attention: wantAttention && t == valid - 1)
            }
            outputs += last.output
            if wantAttention {
                // (N, H, valid·P) kept tokens; the golden file's padding tokens are zeros.
                let kept = try #require(last.attention).values
                let rows = config.nBlocks * config.nHeads
                try #require(kept.count == rows * valid * tokensPerFrame)
                for row in 0..<rows {
                    maps += kept[(row * valid * tokensPerFrame)..<((row + 1) * valid * tokensPerFrame)]
                    maps += [Float](repeating: 0, count: tokens - valid * tokensPerFrame)
                }
            }
        }
        let path = GoldenPath.stream
        let expected = try #require(try GoldenFixtures.array(golden, golden.expected.output)).float64Elements()
        let output = goldenError(outputs, expected)
        var line = "golden [stream] \(golden.case): output scaled error \(output.scaled) (max abs \(output.absolute)) at \(output.index)"
        #expect(output.scaled <= path.outputBudget, "\(golden.case) [stream]: output error \(output.scaled) at \(output.index) exceeds \(path.outputBudget)")
        if let attention = try GoldenFixtures.array(golden, golden.expected.attention) {
            let error = goldenError(maps, try attention.float64Elements())
            line += ", attention scaled error \(error.scaled) (max abs \(error.absolute)) at \(error.index)"
            #expect(error.scaled <= path.attentionBudget(case: golden.case), "\(golden.case) [stream]: attention error \(error.scaled) at \(error.index) exceeds \(path.attentionBudget(case: golden.case))")
        }
        print(line)
    }
}
