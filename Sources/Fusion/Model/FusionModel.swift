/// The fusion model of docs/model.md with checked weights: text projector, vision projector,
/// N fusion blocks and an optional final LayerNorm.
///
/// Mirrors the reference module tree: `text_proj.proj`, `vision_proj.proj`,
/// `fusor.blocks.{i}` (``FusionBlock``), `fusor.final_norm`. Built only from a
/// ``WeightStore`` (every key present, every shape right), so a model that exists is usable.
public struct FusionModel: Sendable, Equatable {
    /// The configuration the weights were checked against.
    public let config: FusionConfig
    /// `text_proj.proj`: (d, txt_latent_dim), no bias.
    public let textProjection: Linear
    /// `vision_proj.proj`: (d, img_latent_dim), no bias.
    public let visionProjection: Linear
    /// `fusor.blocks`, N of them, applied in order.
    public let blocks: [FusionBlock]
    /// `fusor.final_norm`, present exactly when `config.finalNorm`.
    public let finalNorm: LayerNorm?

    /// Checks `tensors` (float32, keys without prefix, no `config` member) against `config`
    /// and builds the model.
    /// - Throws: what ``WeightStore/init(config:tensors:)`` throws.
    public init(config: FusionConfig, tensors: [String: Tensor]) throws {
        self.init(store: try WeightStore(config: config, tensors: tensors))
    }

    /// Builds the model from a checked store (cannot fail).
    public init(store: WeightStore) {
        let config = store.config
        let eps = Float(config.layerNormEps)
        func norm(_ prefix: String) -> LayerNorm {
            LayerNorm(weight: store[prefix + ".weight"], bias: store[prefix + ".bias"], eps: eps)
        }
        self.config = config
        textProjection = Linear(weight: store["text_proj.proj.weight"], bias: nil)
        visionProjection = Linear(weight: store["vision_proj.proj.weight"], bias: nil)
        blocks = (0..<config.nBlocks).map { i in
            let p = "fusor.blocks.\(i)."
            let attention = MultiheadAttention(
                inProjWeight: store[p + "attn.in_proj_weight"],
                inProjBias: config.attnBias ? store[p + "attn.in_proj_bias"] : nil,
                outProj: Linear(
                    weight: store[p + "attn.out_proj.weight"],
                    bias: config.attnBias ? store[p + "attn.out_proj.bias"] : nil),
                heads: config.nHeads)
            let feedForward = FeedForward(
                expand: Linear(weight: store[p + "ffn.0.weight"], bias: store[p + "ffn.0.bias"]),
                contract: Linear(weight: store[p + "ffn.2.weight"], bias: store[p + "ffn.2.bias"]),
                activation: config.activation)
            return FusionBlock(
                attention: attention, norm1: norm(p + "norm1"), feedForward: feedForward,
                norm2: norm(p + "norm2"), normFirst: config.normFirst)
        }
        finalNorm = config.finalNorm ? norm("fusor.final_norm") : nil
    }
}
