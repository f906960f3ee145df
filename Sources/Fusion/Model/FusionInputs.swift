/// One batch of inputs, checked against a model: the text and image latents and the optional
/// lengths or mask, with each sample's pooled text token and valid frame count resolved.
///
/// Shapes (docs/model.md, "Inputs"):
/// - `text`: (B, L, txt_latent_dim), or (B, txt_latent_dim) already pooled.
/// - `images`: (B, T, img_latent_dim), or (B, T, P, img_latent_dim); tokens are frame-major, T·P of them.
/// - `textLengths`: B integers in 1…L (right padding; pooled token len−1), 3-D text only.
/// - `textMask`: (B, L), nonzero = real token (pooled token: the last nonzero index), 3-D text only.
/// - `imageLengths`: B integers in 1…T, valid frames (frames ≥ len are padding).
/// At most one of `textLengths` and `textMask`. Without either the pooled token is L−1;
/// without `imageLengths` every frame is valid.
public struct FusionInputs {
    /// The text latents as given.
    public let text: any FloatSource
    /// The image latents as given.
    public let images: any FloatSource
    /// The text mask as given, if any.
    public let textMask: (any FloatSource)?
    /// B.
    public let batchSize: Int
    /// L for 3-D text; nil when the text came pooled (2-D).
    public let textTokens: Int?
    /// T.
    public let frames: Int
    /// P (1 for 3-D images).
    public let tokensPerFrame: Int
    /// txt_latent_dim.
    public let textLatentDim: Int
    /// img_latent_dim.
    public let imageLatentDim: Int
    /// Per sample, the index in 0..<L of the pooled text token (0 for pooled text).
    public let pooledTextIndex: [Int]
    /// Per sample, the number of valid frames, 1…T (all T when no lengths were given).
    public let imageLengths: [Int]

    /// Where each input came from, by input name (`text`, `images`, `text_mask`, ...), for messages
    /// about its values (``checkFinite()``); empty for in-memory inputs.
    public var origins: [String: String] = [:]

    /// T·P, the number of image tokens per sample.
    public var tokens: Int { frames * tokensPerFrame }

    /// Validates the inputs against `model` and resolves the pooled token and valid frames per sample.
    ///
    /// - Throws: ``FusionError/invalidInput(input:sample:detail:)`` naming the input (and sample) for:
    ///   a rank other than above; a latent size that differs from the model's; batch sizes that
    ///   differ; L, T or P of 0; both lengths and mask; lengths or mask with 2-D text; a lengths
    ///   count other than B; a text length outside 1…L or image length outside 1…T; a mask shape
    ///   other than (B, L); a mask row without a nonzero entry. Also whatever reading the mask throws.
    public init(
        text: any FloatSource, images: any FloatSource, textLengths: [Int]?, textMask: (any FloatSource)?,
        imageLengths: [Int]?, model: FusionModel
    ) throws {
        let config = model.config
        let txt = config.txtLatentDim
        let img = config.imgLatentDim
        func fail(_ input: String, _ sample: Int? = nil, _ detail: String) -> FusionError {
            .invalidInput(input: input, sample: sample, detail: detail)
        }
        let textShape = text.shape
        guard textShape.count == 2 || textShape.count == 3 else {
            throw fail("text", nil, "expected shape (B, L, \(txt)) or (B, \(txt)), found \(shapeText(textShape))")
        }
        guard textShape.last == txt else {
            throw fail(
                "text", nil,
                "latent size \(textShape.last!) differs from the weights' txt_latent_dim = \(txt) (shape \(shapeText(textShape)))")
        }
        let imageShape = images.shape
        guard imageShape.count == 3 || imageShape.count == 4 else {
            throw fail("images", nil, "expected shape (B, T, \(img)) or (B, T, P, \(img)), found \(shapeText(imageShape))")
        }
        guard imageShape.last == img else {
            throw fail(
                "images", nil,
                "latent size \(imageShape.last!) differs from the weights' img_latent_dim = \(img) (shape \(shapeText(imageShape)))")
        }
        let batch = textShape[0]
        guard imageShape[0] == batch else {
            throw fail("images", nil, "batch size \(imageShape[0]) differs from text's \(batch)")
        }
        let frameCount = imageShape[1]
        let perFrame = imageShape.count == 4 ? imageShape[2] : 1
        guard frameCount >= 1, perFrame >= 1 else {
            throw fail("images", nil, "needs at least one frame and one token per frame, found shape \(shapeText(imageShape))")
        }
        let tokenCount: Int? = textShape.count == 3 ? textShape[1] : nil
        if let tokenCount, tokenCount < 1 {
            throw fail("text", nil, "needs at least one token, found shape \(shapeText(textShape))")
        }
        if textLengths != nil && textMask != nil {
            throw fail("text_mask", nil, "give either text_lengths or text_mask, not both")
        }

        var pooled = [Int](repeating: (tokenCount ?? 1) - 1, count: batch)
        if let textLengths {
            guard let tokenCount else {
                throw fail("text_lengths", nil, "only applies to 3-D text (B, L, \(txt)); text is pooled, shape \(shapeText(textShape))")
            }
            guard textLengths.count == batch else {
                throw fail("text_lengths", nil, "expected \(batch) entries (one per sample), found \(textLengths.count)")
            }
            for (b, length) in textLengths.enumerated() {
                guard (1...tokenCount).contains(length) else {
                    throw fail("text_lengths", b, "length \(length) outside 1…\(tokenCount) (L)")
                }
                pooled[b] = length - 1
            }
        }
        if let textMask {
            guard let tokenCount else {
                throw fail("text_mask", nil, "only applies to 3-D text (B, L, \(txt)); text is pooled, shape \(shapeText(textShape))")
            }
            guard textMask.shape == [batch, tokenCount] else {
                throw fail("text_mask", nil, "expected shape \(shapeText([batch, tokenCount])) (B, L), found \(shapeText(textMask.shape))")
            }
            for b in 0..<batch {
                let last = try textMask.withElements(in: (b * tokenCount)..<((b + 1) * tokenCount)) { row in
                    row.lastIndex(where: { $0 != 0 })
                }
                guard let last else {
                    throw fail("text_mask", b, "no real token (every entry of the mask row is 0)")
                }
                pooled[b] = last
            }
        }

        var lengths = [Int](repeating: frameCount, count: batch)
        if let imageLengths {
            guard imageLengths.count == batch else {
                throw fail("image_lengths", nil, "expected \(batch) entries (one per sample), found \(imageLengths.count)")
            }
            for (b, length) in imageLengths.enumerated() {
                guard (1...frameCount).contains(length) else {
                    throw fail("image_lengths", b, "length \(length) outside 1…\(frameCount) (T, frames)")
                }
                lengths[b] = length
            }
        }

        self.text = text
        self.images = images
        self.textMask = textMask
        batchSize = batch
        textTokens = tokenCount
        frames = frameCount
        tokensPerFrame = perFrame
        textLatentDim = txt
        imageLatentDim = img
        pooledTextIndex = pooled
        self.imageLengths = lengths
    }

    /// Flat element range in `text` of sample b's pooled token (txt_latent_dim elements).
    public func pooledTextRange(sample b: Int) -> Range<Int> {
        let start = (b * (textTokens ?? 1) + pooledTextIndex[b]) * textLatentDim
        return start..<(start + textLatentDim)
    }

    /// Flat element range in `images` of sample b's first `frames` frames: frames·P tokens of img_latent_dim,
    /// token-major. - Precondition: 0 ≤ frames ≤ T.
    public func imageRange(sample b: Int, frames count: Int) -> Range<Int> {
        precondition((0...frames).contains(count), "imageRange: \(count) frames of \(frames)")
        let perSample = frames * tokensPerFrame * imageLatentDim
        return (b * perSample)..<(b * perSample + count * tokensPerFrame * imageLatentDim)
    }
}
