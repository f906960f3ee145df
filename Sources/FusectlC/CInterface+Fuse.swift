import Fusion

/// Output and attention float counts for text and images of these shapes.
/// With `attention`, also refuses maps that would not fit in memory (``MemoryLimit``), as the CLI does.
private func fuseSizes(
    _ config: FusionConfig, textShape: [Int], imagesShape: [Int], perStep: Bool, attention: Bool
) throws -> (output: Int, attention: Int) {
    guard textShape.count == 2 || textShape.count == 3 else {
        throw CFailure.input("text: expected shape (B, L, \(config.txtLatentDim)) or (B, \(config.txtLatentDim)), found \(shapeDescription(textShape))")
    }
    guard imagesShape.count == 3 || imagesShape.count == 4 else {
        throw CFailure.input("images: expected shape (B, T, \(config.imgLatentDim)) or (B, T, P, \(config.imgLatentDim)), found \(shapeDescription(imagesShape))")
    }
    let batch = textShape[0]
    let frames = imagesShape[1]
    let tokens = try checkedProduct([frames, imagesShape.count == 4 ? imagesShape[2] : 1], "images")
    let steps = perStep ? frames : 1
    let output = try checkedProduct([batch, steps, config.projDim], "output")
    let maps = try checkedProduct([batch, steps, config.nBlocks, config.nHeads, tokens], "attention")
    let (mapBytes, overflow) = maps.multipliedReportingOverflow(by: 4)
    if attention, let refusal = MemoryLimit.attentionRefusal(
        mapBytes: overflow ? Int.max : mapBytes, limit: MemoryLimit.bytes, batch: batch, frames: frames, tokens: tokens,
        blocks: config.nBlocks, heads: config.nHeads, perStep: perStep) {
        throw CFailure.input(refusal)
    }
    return (output, maps)
}

@_cdecl("fusectl_fuse_sizes")
public func fusectl_fuse_sizes(
    _ model: OpaquePointer?, _ textShape: UnsafePointer<Int64>?, _ textRank: Int64,
    _ imagesShape: UnsafePointer<Int64>?, _ imagesRank: Int64, _ perStep: Int32, _ attention: Int32,
    _ outputCount: UnsafeMutablePointer<Int64>?, _ attentionCount: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let text = try readShape(textShape, rank: textRank, "text")
        let images = try readShape(imagesShape, rank: imagesRank, "images")
        try withEngine(model) { engine, _ in
            let sizes = try fuseSizes(
                engine.model.config, textShape: text, imagesShape: images, perStep: perStep != 0, attention: attention != 0)
            outputCount?.pointee = Int64(sizes.output)
            attentionCount?.pointee = Int64(sizes.attention)
        }
    }
}

@_cdecl("fusectl_fuse")
public func fusectl_fuse(
    _ model: OpaquePointer?,
    _ text: UnsafePointer<Float>?, _ textShape: UnsafePointer<Int64>?, _ textRank: Int64,
    _ images: UnsafePointer<Float>?, _ imagesShape: UnsafePointer<Int64>?, _ imagesRank: Int64,
    _ imageLengths: UnsafePointer<Int64>?, _ imageLengthsCount: Int64,
    _ textMask: UnsafePointer<Float>?, _ textMaskShape: UnsafePointer<Int64>?, _ textMaskRank: Int64,
    _ textLengths: UnsafePointer<Int64>?, _ textLengthsCount: Int64,
    _ perStep: Int32, _ plan: UnsafePointer<CChar>?,
    _ output: UnsafeMutablePointer<Float>?, _ outputCount: Int64,
    _ attention: UnsafeMutablePointer<Float>?, _ attentionCount: Int64
) -> Int32 {
    guarded {
        let planName = try optionalString(plan, "plan") ?? FusionPlanChoice.automatic.rawValue
        guard let planChoice = FusionPlanChoice(rawValue: planName) else {
            let names = FusionPlanChoice.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw CFailure.input("plan: unknown plan '\(planName)' (expected one of \(names))")
        }
        let textArray = try BorrowedFloats(text, shape: readShape(textShape, rank: textRank, "text"), name: "text")
        let imagesArray = try BorrowedFloats(images, shape: readShape(imagesShape, rank: imagesRank, "images"), name: "images")
        let maskArray = try textMask.map {
            try BorrowedFloats($0, shape: readShape(textMaskShape, rank: textMaskRank, "text_mask"), name: "text_mask")
        }
        let imageLengthValues = try readIntegers(imageLengths, count: imageLengthsCount, "image_lengths")
        let textLengthValues = try readIntegers(textLengths, count: textLengthsCount, "text_lengths")
        guard let output else { throw CFailure.input("output: NULL") }
        try withEngine(model) { engine, state in
            let config = engine.model.config
            if let batch = textArray.shape.first, batch == 0, textArray.shape.count >= 2 {
                throw CFailure.input("text: needs at least one sample, found shape \(shapeDescription(textArray.shape))")
            }
            let inputs = try FusionInputs(
                text: textArray, images: imagesArray, textLengths: textLengthValues, textMask: maskArray,
                imageLengths: imageLengthValues, model: engine.model)
            let sizes = try fuseSizes(
                config, textShape: textArray.shape, imagesShape: imagesArray.shape, perStep: perStep != 0,
                attention: attention != nil)
            guard outputCount == Int64(sizes.output) else {
                throw CFailure.buffer("output: room for \(outputCount) floats, the result has \(sizes.output)")
            }
            if attention != nil {
                guard attentionCount == Int64(sizes.attention) else {
                    throw CFailure.buffer("attention: room for \(attentionCount) floats, the maps have \(sizes.attention)")
                }
            }
            try inputs.checkFinite()
            if !state.packed {
                // Once per model: later calls read packed weights (the same bits, fewer cycles).
                engine.packAll()
                state.packed = true
            }
            let options = FusionOptions(perStep: perStep != 0, attention: attention != nil, plan: planChoice)
            let result = try engine.fuse(inputs, options: options).result
            result.output.withUnsafeBufferPointer { values in
                output.update(from: values.baseAddress!, count: sizes.output)
            }
            if let attention, let maps = result.attention {
                maps.withUnsafeBufferPointer { values in
                    attention.update(from: values.baseAddress!, count: sizes.attention)
                }
            }
        }
    }
}
