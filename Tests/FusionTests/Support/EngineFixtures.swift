@testable import Fusion

/// Shared helpers for the engine's tests: configurations with odd sizes, random batches, and runs of
/// the engine and of the reference on the same inputs.
enum EngineFixtures {
    /// A configuration with d = heads·headDim and sizes that are not multiples of 16.
    static func config(
        heads: Int, headDim: Int, img: Int = 37, txt: Int = 19, ffn: Int = 45, blocks: Int = 2,
        normFirst: Bool = false, activation: Activation = .gelu, finalNorm: Bool = false, attnBias: Bool = true
    ) -> FusionConfig {
        var config = FusionConfig()
        config.imgLatentDim = img
        config.txtLatentDim = txt
        config.projDim = heads * headDim
        config.nHeads = heads
        config.nBlocks = blocks
        config.ffnDim = ffn
        config.normFirst = normFirst
        config.activation = activation
        config.finalNorm = finalNorm
        config.attnBias = attnBias
        return config
    }

    /// A batch for `model`: text (B, L, txt), images (B, T, P, img) or (B, T, img) when `tokensPerFrame`
    /// is nil, optional lengths.
    struct Batch {
        var text: Tensor
        var images: Tensor
        var textLengths: [Int]?
        var imageLengths: [Int]?

        func inputs(_ model: FusionModel) throws -> FusionInputs {
            try FusionInputs(
                text: text, images: images, textLengths: textLengths, textMask: nil, imageLengths: imageLengths,
                model: model)
        }

        /// Sample b alone, with only its first `frames` frames (default: all T).
        func sample(_ b: Int, frames: Int? = nil) -> Batch {
            let textPerSample = text.count / text.shape[0]
            let imagePerSample = images.count / images.shape[0]
            let allFrames = images.shape[1]
            let keep = frames ?? allFrames
            let perFrame = imagePerSample / allFrames
            var imageShape = images.shape
            imageShape[0] = 1
            imageShape[1] = keep
            var textShape = text.shape
            textShape[0] = 1
            return Batch(
                text: Tensor(shape: textShape, values: Array(text.values[(b * textPerSample)..<((b + 1) * textPerSample)])),
                images: Tensor(
                    shape: imageShape,
                    values: Array(images.values[(b * imagePerSample)..<(b * imagePerSample + keep * perFrame)])),
                textLengths: textLengths.map { [$0[b]] },
                imageLengths: imageLengths.map { [min($0[b], keep)] })
        }
    }

    static func batch(
        _ config: FusionConfig, batch: Int, tokens: Int = 4, frames: Int, tokensPerFrame: Int? = nil,
        textLengths: [Int]? = nil, imageLengths: [Int]? = nil, seed: UInt64
    ) -> Batch {
        let imageShape =
            tokensPerFrame.map { [batch, frames, $0, config.imgLatentDim] } ?? [batch, frames, config.imgLatentDim]
        return Batch(
            text: ModelFactory.normal([batch, tokens, config.txtLatentDim], seed: seed),
            images: ModelFactory.normal(imageShape, seed: seed &+ 1),
            textLengths: textLengths, imageLengths: imageLengths)
    }

    /// The engine's result for `batch` (the automatic plan unless `plan` says otherwise).
    static func engine(
        _ engine: FusionEngine, _ batch: Batch, perStep: Bool = false, attention: Bool = true,
        plan: FusionPlanChoice = .automatic
    ) throws -> FusionResult {
        try engine.fuse(
            batch.inputs(engine.model), options: FusionOptions(perStep: perStep, attention: attention, plan: plan)
        ).result
    }

    /// The reference path's result for `batch`.
    static func reference(_ model: FusionModel, _ batch: Batch, perStep: Bool = false, attention: Bool = true) throws
        -> FusionResult
    {
        try model.fuseReference(batch.inputs(model), options: FusionOptions(perStep: perStep, attention: attention, threads: 2))
    }

    /// Largest |a − b| and its index.
    static func maxError(_ a: [Float], _ b: [Float]) -> (error: Float, index: Int) {
        precondition(a.count == b.count, "maxError: lengths \(a.count) and \(b.count)")
        var worst: (error: Float, index: Int) = (0, -1)
        for i in a.indices {
            let e = abs(a[i] - b[i])
            if e > worst.error || e.isNaN { worst = (e, i) }
        }
        return worst
    }

    /// Whether two float arrays hold the same bits.
    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// The first index where the bits differ, for messages.
    static func firstDifference(_ a: [Float], _ b: [Float]) -> String {
        guard a.count == b.count else { return "lengths \(a.count) and \(b.count)" }
        guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return "none" }
        return "index \(i): \(a[i]) vs \(b[i])"
    }
}
