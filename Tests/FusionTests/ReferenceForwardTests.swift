import Testing
@testable import Fusion

@Suite struct ReferenceForwardTests {
    static let configs: [FusionConfig] = [
        ModelFactory.smallConfig(),
        ModelFactory.smallConfig(normFirst: true, activation: .geluTanh, finalNorm: true),
        ModelFactory.smallConfig(activation: .relu, attnBias: false, heads: 1, blocks: 3),
        ModelFactory.smallConfig(normFirst: true, activation: .relu, attnBias: false, heads: 2, blocks: 1),
    ]

    func fuse(
        _ model: FusionModel, text: Tensor, images: Tensor, textLengths: [Int]? = nil, textMask: Tensor? = nil,
        imageLengths: [Int]? = nil, perStep: Bool = false, threads: Int = 1
    ) throws -> FusionResult {
        let inputs = try FusionInputs(
            text: text, images: images, textLengths: textLengths, textMask: textMask, imageLengths: imageLengths,
            model: model)
        return try model.fuseReference(inputs, options: FusionOptions(perStep: perStep, attention: true, threads: threads))
    }

    @Test(arguments: configs.indices)
    func matchesFloat64Forward(configIndex: Int) throws {
        let config = Self.configs[configIndex]
        let model = try ModelFactory.model(config)
        let text = ModelFactory.normal([3, 5, 20], seed: 21)
        let images = ModelFactory.normal([3, 4, 2, 50], seed: 22)
        let result = try fuse(model, text: text, images: images, textLengths: [5, 1, 3], imageLengths: [4, 1, 2])
        #expect(result.output.shape == [3, 1, 36])
        #expect(result.attention?.shape == [3, config.nBlocks, config.nHeads, 8])
        var worstOutput = 0.0
        var worstWeight = 0.0
        for (b, (textLength, frames)) in zip([5, 1, 3], [4, 1, 2]).enumerated() {
            let pooled = Array(text.values[((b * 5 + textLength - 1) * 20)..<((b * 5 + textLength) * 20)])
            let tokens = frames * 2
            let imageTokens = Array(images.values[(b * 400)..<(b * 400 + tokens * 50)])
            let expected = Float64Forward.fuse(model: model, text: pooled, images: imageTokens, validTokens: tokens)
            worstOutput = max(worstOutput, maxAbsError(Array(result.output.values[(b * 36)..<((b + 1) * 36)]), expected.output).error)
            for i in 0..<config.nBlocks {
                for h in 0..<config.nHeads {
                    let base = ((b * config.nBlocks + i) * config.nHeads + h) * 8
                    let row = Array(result.attention!.values[base..<(base + 8)])
                    let want = expected.weights[i][(h * tokens)..<((h + 1) * tokens)] + [Double](repeating: 0, count: 8 - tokens)
                    worstWeight = max(worstWeight, maxAbsError(row, Array(want)).error)
                    #expect(row[tokens...].allSatisfy { $0 == 0 }, "masked tokens must weigh exactly 0")
                }
            }
        }
        print("config \(configIndex): max abs error vs float64: output \(worstOutput), attention \(worstWeight)")
        // Measured 2026-12-06 on 3ef0df3 over the four configs: output ≤ 8.8e-7, attention ≤ 7.6e-8; about 4×.
        #expect(worstOutput <= 4e-6)
        #expect(worstWeight <= 3e-7)
    }

    @Test func oneValidFrameGetsWeightExactlyOne() throws {
        let model = try ModelFactory.model()
        let result = try fuse(
            model, text: ModelFactory.normal([2, 3, 20], seed: 1), images: ModelFactory.normal([2, 5, 50], seed: 2),
            imageLengths: [1, 5])
        let attention = result.attention!
        for i in 0..<2 {
            for h in 0..<3 {
                let base = (i * 3 + h) * 5
                #expect(Array(attention.values[base..<(base + 5)]) == [1, 0, 0, 0, 0])
            }
        }
    }

    @Test func sampleIsUnchangedByOtherSamplesAndPadding() throws {
        let model = try ModelFactory.model(Self.configs[1])
        let text = ModelFactory.normal([1, 4, 20], seed: 5)
        let images = ModelFactory.normal([1, 3, 50], seed: 6)
        let alone = try fuse(model, text: text, images: images)

        var padded = ModelFactory.normal([3, 6, 50], seed: 7)
        for k in 0..<150 {
            padded.values[1 * 300 + k] = images.values[k]
        }
        var bigText = ModelFactory.normal([3, 4, 20], seed: 8)
        for k in 0..<80 {
            bigText.values[80 + k] = text.values[k]
        }
        let batch = try fuse(model, text: bigText, images: padded, imageLengths: [6, 3, 2], threads: 2)
        #expect(Array(batch.output.values[36..<72]) == alone.output.values)
        let perSample = 2 * 3 * 6
        let weights = Array(batch.attention!.values[perSample..<(2 * perSample)])
        for row in 0..<6 {
            #expect(Array(weights[(row * 6)..<(row * 6 + 3)]) == Array(alone.attention!.values[(row * 3)..<(row * 3 + 3)]))
            #expect(weights[(row * 6 + 3)..<(row * 6 + 6)].allSatisfy { $0 == 0 })
        }
    }

    @Test func permutingFramesPermutesAttentionAndKeepsOutput() throws {
        let model = try ModelFactory.model()
        let text = ModelFactory.normal([1, 20], seed: 9)
        let images = ModelFactory.normal([1, 5, 50], seed: 10)
        let permutation = [3, 0, 4, 1, 2]
        var permuted = images
        for (newIndex, oldIndex) in permutation.enumerated() {
            for k in 0..<50 {
                permuted.values[newIndex * 50 + k] = images.values[oldIndex * 50 + k]
            }
        }
        let original = try fuse(model, text: text, images: images)
        let shuffled = try fuse(model, text: text, images: permuted)
        let outputError = maxAbsError(shuffled.output.values, original.output.values.map(Double.init))
        print("permutation: max abs output difference \(outputError.error)")
        #expect(outputError.error <= 1e-6)  // measured 2.4e-7 (2026-12-06, 3ef0df3)
        for row in 0..<6 {
            for (newIndex, oldIndex) in permutation.enumerated() {
                let a = shuffled.attention!.values[row * 5 + newIndex]
                let b = original.attention!.values[row * 5 + oldIndex]
                #expect(abs(a - b) <= 1e-6, "row \(row) frame \(oldIndex)")
            }
        }
    }

    @Test(arguments: [false, true])
    func perStepRowEqualsPlainOnThePrefix(fourD: Bool) throws {
        let model = try ModelFactory.model(Self.configs[1])
        let text = ModelFactory.normal([2, 4, 20], seed: 11)
        let shape = fourD ? [2, 4, 3, 50] : [2, 4, 50]
        let images = ModelFactory.normal(shape, seed: 12)
        let perFrame = fourD ? 3 : 1
        let steps = try fuse(model, text: text, images: images, textLengths: [2, 4], imageLengths: [4, 3], perStep: true)
        #expect(steps.output.shape == [2, 4, 36])
        #expect(steps.attention?.shape == [2, 4, 2, 3, 4 * perFrame])
        let tokenSize = perFrame * 50
        for b in 0..<2 {
            for t in 0..<4 {
                let row = Array(steps.output.values[((b * 4 + t) * 36)..<((b * 4 + t + 1) * 36)])
                let stepSize = 2 * 3 * 4 * perFrame
                let weights = Array(steps.attention!.values[((b * 4 + t) * stepSize)..<((b * 4 + t + 1) * stepSize)])
                if b == 1 && t == 3 {
                    #expect(row.allSatisfy { $0 == 0 } && weights.allSatisfy { $0 == 0 })
                    continue
                }
                var prefixShape = shape
                prefixShape[0] = 1
                prefixShape[1] = t + 1
                let prefix = Tensor(
                    shape: prefixShape,
                    values: Array(images.values[(b * 4 * tokenSize)..<(b * 4 * tokenSize + (t + 1) * tokenSize)]))
                let sampleText = Tensor(shape: [1, 4, 20], values: Array(text.values[(b * 80)..<((b + 1) * 80)]))
                let plain = try fuse(model, text: sampleText, images: prefix, textLengths: [[2, 4][b]])
                #expect(row == plain.output.values, "sample \(b) step \(t)")
                let valid = (t + 1) * perFrame
                for r in 0..<6 {
                    #expect(Array(weights[(r * 4 * perFrame)..<(r * 4 * perFrame + valid)]) == Array(plain.attention!.values[(r * valid)..<((r + 1) * valid)]))
                    #expect(weights[(r * 4 * perFrame + valid)..<((r + 1) * 4 * perFrame)].allSatisfy { $0 == 0 })
                }
            }
        }
    }

    @Test func resultsDoNotDependOnThreadCount() throws {
        let model = try ModelFactory.model()
        let text = ModelFactory.normal([7, 3, 20], seed: 13)
        let images = ModelFactory.normal([7, 5, 50], seed: 14)
        let lengths = [5, 1, 2, 3, 4, 5, 2]
        let one = try fuse(model, text: text, images: images, imageLengths: lengths, perStep: true, threads: 1)
        for threads in [2, 3, 16] {
            #expect(try fuse(model, text: text, images: images, imageLengths: lengths, perStep: true, threads: threads) == one)
        }
    }

    @Test func maskAndLengthsPoolTheSameToken() throws {
        let model = try ModelFactory.model()
        let text = ModelFactory.normal([2, 4, 20], seed: 15)
        let images = ModelFactory.normal([2, 3, 50], seed: 16)
        let byLengths = try fuse(model, text: text, images: images, textLengths: [2, 3])
        let rightPadded = Tensor(shape: [2, 4], values: [1, 1, 0, 0, 1, 1, 1, 0])
        let leftPadded = Tensor(shape: [2, 4], values: [0, 0, 1, 1, 0, 1, 1, 1])
        #expect(try fuse(model, text: text, images: images, textMask: rightPadded).output == byLengths.output)
        let byLastToken = try fuse(model, text: text, images: images)
        #expect(try fuse(model, text: text, images: images, textMask: leftPadded).output == byLastToken.output)
        #expect(byLastToken.output != byLengths.output)
    }

    @Test func fourDImagesAreFrameMajorTokens() throws {
        let model = try ModelFactory.model()
        let text = ModelFactory.normal([2, 20], seed: 17)
        let images = ModelFactory.normal([2, 3, 2, 50], seed: 18)
        let flat = Tensor(shape: [2, 6, 50], values: images.values)
        let a = try fuse(model, text: text, images: images, imageLengths: [2, 3])
        let b = try fuse(model, text: text, images: flat, imageLengths: [4, 6])
        #expect(a == b)
    }

    @Test func withoutAttentionNoMapIsReturned() throws {
        let model = try ModelFactory.model()
        let inputs = try FusionInputs(
            text: ModelFactory.normal([1, 20], seed: 1), images: ModelFactory.normal([1, 2, 50], seed: 2),
            textLengths: nil, textMask: nil, imageLengths: nil, model: model)
        let result = try model.fuseReference(inputs, options: FusionOptions())
        #expect(result.attention == nil)
        #expect(result.output.shape == [1, 1, 36])
    }
}
