/// An acting agent's fusion: one fixed instruction, a history that grows by one frame per step.
///
/// `append(frame:)` returns the fused vector (d) for the history so far — bit-identical to
/// `FusionModel.fuse` in plain mode on the same frames (and so to per-step mode's row t), because it
/// is computed by that same function on a batch of one. With `maxFrames` only the most recent frames
/// are kept, like an agent's context limit: the result is then plain fusion of the last `maxFrames`
/// frames. `reset()` starts a new episode with the same instruction.
///
/// Memory is bounded by the window: maxFrames · P · img_latent_dim floats.
public final class FusionSession {
    public let model: FusionModel
    /// The most frames kept; nil keeps the whole episode.
    public let maxFrames: Int?
    private let text: Tensor
    private let textMask: Tensor?
    /// Kept frames, oldest first, each P·img floats.
    private var frames = FrameWindow()
    /// P, fixed by the episode's first frame.
    private var tokensPerFrame: Int?
    /// Frames appended since the episode began (not only those kept).
    public private(set) var step = 0

    /// - Parameters:
    ///   - text: the instruction, (L, txt_latent_dim) token latents or (txt_latent_dim) already pooled.
    ///   - textMask: (L) — nonzero marks a real token; the last real one is used. Only with 2-D text.
    ///   - maxFrames: the window, ≥ 1, or nil for no limit.
    /// - Throws: `FusionError.invalidInput` for shapes that contradict the model, a mask without a real
    ///   token, or a window below 1.
    public init(model: FusionModel, text: any FloatSource, textMask: (any FloatSource)? = nil, maxFrames: Int? = nil) throws {
        if let maxFrames, maxFrames < 1 {
            throw FusionError.invalidInput(input: "window", sample: nil, detail: "must be at least 1 frame, found \(maxFrames)")
        }
        self.model = model
        self.maxFrames = maxFrames
        let textValues = try text.elements(in: 0..<elementCount(text.shape))
        self.text = Tensor(shape: [1] + text.shape, values: textValues)
        self.textMask = try textMask.map { mask in
            Tensor(shape: [1] + mask.shape, values: try mask.elements(in: 0..<elementCount(mask.shape)))
        }
        // Validate the instruction now, with a one-frame dummy history, so that a bad text fails at start.
        let probe = Tensor(zeros: [1, 1, model.config.imgLatentDim])
        _ = try FusionInputs(text: self.text, images: probe, textLengths: nil, textMask: self.textMask,
                             imageLengths: nil, model: model)
    }

    /// Starts a new episode with the same instruction.
    public func reset() {
        frames = FrameWindow()
        tokensPerFrame = nil
        step = 0
    }

    /// Adds one frame and returns the fused vector for the kept history.
    ///
    /// - Parameter frame: (img_latent_dim) or (P, img_latent_dim); P must match the episode's first frame.
    /// - Returns: d floats, and the attention weights (N, H, kept frames · P) when `attention` is set.
    /// - Throws: `FusionError.invalidInput` naming the frame's step for a wrong shape; non-finite values.
    public func append(frame: any FloatSource, attention: Bool = false) throws -> (output: [Float], attention: Tensor?) {
        let img = model.config.imgLatentDim
        let shape = frame.shape
        let p: Int
        switch shape.count {
        case 1 where shape[0] == img: p = 1
        case 2 where shape[1] == img && shape[0] >= 1: p = shape[0]
        default:
            throw FusionError.invalidInput(input: "frame", sample: step,
                                           detail: "expected shape (\(img),) or (P, \(img)), found \(shapeText(shape))")
        }
        if let tokensPerFrame, tokensPerFrame != p {
            throw FusionError.invalidInput(input: "frame", sample: step,
                                           detail: "has \(p) tokens, but this episode's frames have \(tokensPerFrame)")
        }
        let values = try frame.elements(in: 0..<(p * img))
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw FusionError.nonFiniteInput(input: "frame", sample: step, index: Array([bad / img, bad % img].suffix(shape.count)),
                                             value: "\(values[bad])")
        }
        tokensPerFrame = p
        frames.append(values, limit: maxFrames)
        step += 1
        let images = Tensor(shape: [1, frames.count, p, img], values: frames.values)
        let inputs = try FusionInputs(text: text, images: images, textLengths: nil, textMask: textMask,
                                      imageLengths: nil, model: model)
        let result = try model.fuse(inputs, options: FusionOptions(perStep: false, attention: attention, threads: 0))
        let maps = result.attention.map { Tensor(shape: Array($0.shape.dropFirst()), values: $0.values) }
        return (result.output.values, maps)
    }
}

/// The kept frames, oldest first, as one flat array.
struct FrameWindow {
    private(set) var values: [Float] = []
    private(set) var count = 0
    private var frameSize = 0

    mutating func append(_ frame: [Float], limit: Int?) {
        frameSize = frame.count
        values += frame
        count += 1
        if let limit, count > limit {
            values.removeFirst((count - limit) * frameSize)
            count = limit
        }
    }
}
