import Testing
@testable import Fusion

@Suite struct FusionInputsTests {
    let model: FusionModel

    init() throws {
        model = try ModelFactory.model()
    }

    func inputs(
        text: [Int] = [2, 5, 20], images: [Int] = [2, 4, 50], textLengths: [Int]? = nil, textMask: Tensor? = nil,
        imageLengths: [Int]? = nil
    ) throws -> FusionInputs {
        try FusionInputs(
            text: ModelFactory.normal(text, seed: 1), images: ModelFactory.normal(images, seed: 2),
            textLengths: textLengths, textMask: textMask, imageLengths: imageLengths, model: model)
    }

    func message(_ body: () throws -> FusionInputs) -> String? {
        #expect(throws: FusionError.self) { _ = try body() }?.description
    }

    @Test func resolvesPoolingAndLengths() throws {
        let plain = try inputs()
        #expect(plain.batchSize == 2 && plain.frames == 4 && plain.tokensPerFrame == 1 && plain.textTokens == 5)
        #expect(plain.pooledTextIndex == [4, 4])
        #expect(plain.imageLengths == [4, 4])
        let lengths = try inputs(textLengths: [1, 3], imageLengths: [1, 4])
        #expect(lengths.pooledTextIndex == [0, 2])
        #expect(lengths.imageLengths == [1, 4])
        let mask = Tensor(shape: [2, 5], values: [0, 0, 1, 1, 1, 1, 2, 0, 0, 0])
        #expect(try inputs(textMask: mask).pooledTextIndex == [4, 1])
        let pooled = try inputs(text: [2, 20], images: [2, 3, 2, 50])
        #expect(pooled.textTokens == nil && pooled.pooledTextIndex == [0, 0] && pooled.tokensPerFrame == 2 && pooled.tokens == 6)
        #expect(pooled.pooledTextRange(sample: 1) == 20..<40)
        #expect(pooled.imageRange(sample: 1, frames: 2) == 300..<500)
        #expect(lengths.pooledTextRange(sample: 1) == 140..<160)
    }

    @Test func shapeErrorsNameTheInput() {
        #expect(message { try inputs(text: [2, 5, 21]) } == "text: latent size 21 differs from the weights' txt_latent_dim = 20 (shape (2, 5, 21))")
        #expect(message { try inputs(images: [2, 4, 51]) } == "images: latent size 51 differs from the weights' img_latent_dim = 50 (shape (2, 4, 51))")
        #expect(message { try inputs(text: [2, 1, 5, 20]) } == "text: expected shape (B, L, 20) or (B, 20), found (2, 1, 5, 20)")
        #expect(message { try inputs(images: [2, 50]) } == "images: expected shape (B, T, 50) or (B, T, P, 50), found (2, 50)")
        #expect(message { try inputs(images: [3, 4, 50]) } == "images: batch size 3 differs from text's 2")
        #expect(message { try inputs(images: [2, 0, 50]) } == "images: needs at least one frame and one token per frame, found shape (2, 0, 50)")
    }

    @Test func lengthErrorsNameTheSample() {
        #expect(message { try inputs(textLengths: [5, 6]) } == "text_lengths: sample 1: length 6 outside 1…5 (L)")
        #expect(message { try inputs(textLengths: [0, 2]) } == "text_lengths: sample 0: length 0 outside 1…5 (L)")
        #expect(message { try inputs(textLengths: [3]) } == "text_lengths: expected 2 entries (one per sample), found 1")
        #expect(message { try inputs(imageLengths: [4, 0]) } == "image_lengths: sample 1: length 0 outside 1…4 (T, frames)")
        #expect(message { try inputs(imageLengths: [5, 1]) } == "image_lengths: sample 0: length 5 outside 1…4 (T, frames)")
        #expect(message { try inputs(imageLengths: [1, 1, 1]) } == "image_lengths: expected 2 entries (one per sample), found 3")
    }

    @Test func maskErrors() {
        let empty = Tensor(shape: [2, 5], values: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(message { try inputs(textMask: empty) } == "text_mask: sample 1: no real token (every entry of the mask row is 0)")
        #expect(message { try inputs(textMask: Tensor(zeros: [2, 4])) } == "text_mask: expected shape (2, 5) (B, L), found (2, 4)")
        #expect(message { try inputs(textLengths: [1, 1], textMask: Tensor(zeros: [2, 5])) } == "text_mask: give either text_lengths or text_mask, not both")
        #expect(message { try inputs(text: [2, 20], textLengths: [1, 1]) } == "text_lengths: only applies to 3-D text (B, L, 20); text is pooled, shape (2, 20)")
        #expect(message { try inputs(text: [2, 20], textMask: Tensor(zeros: [2, 1])) } == "text_mask: only applies to 3-D text (B, L, 20); text is pooled, shape (2, 20)")
    }

    @Test func nonFiniteValuesAreReportedWithSampleAndIndex() throws {
        var images = ModelFactory.normal([2, 4, 50], seed: 2)
        images.values[1 * 200 + 2 * 50 + 7] = .nan
        let withNaN = try FusionInputs(
            text: ModelFactory.normal([2, 5, 20], seed: 1), images: images, textLengths: nil, textMask: nil,
            imageLengths: nil, model: model)
        let error = #expect(throws: FusionError.self) { try withNaN.checkFinite() }
        #expect(error?.description == "images: sample 1: non-finite value nan at [1, 2, 7]")

        var text = ModelFactory.normal([2, 20], seed: 1)
        text.values[3] = -.infinity
        let withInf = try FusionInputs(
            text: text, images: ModelFactory.normal([2, 4, 50], seed: 2), textLengths: nil, textMask: nil,
            imageLengths: nil, model: model)
        #expect(throws: FusionError.nonFiniteInput(input: "text", sample: 0, index: [0, 3], value: "-inf")) {
            try withInf.checkFinite()
        }
        try inputs().checkFinite()
    }
}
