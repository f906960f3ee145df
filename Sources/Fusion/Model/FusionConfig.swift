/// The model's hyper-parameters: the configuration table of docs/model.md, with its defaults.
///
/// JSON keys are those of docs/model.md (`img_latent_dim`, …, `attn_bias`); ``decode(json:origin:)``
/// rejects unknown keys and invalid values, ``jsonString()`` writes every key, sorted.
public struct FusionConfig: Codable, Equatable, Sendable {
    /// Size of one image token (`img_latent_dim`, default 2048).
    public var imgLatentDim: Int = 2048
    /// Size of one text token (`txt_latent_dim`, default 768).
    public var txtLatentDim: Int = 768
    /// d, the shared space (`proj_dim`, default 768).
    public var projDim: Int = 768
    /// Attention heads H; `projDim` must be divisible by it (`n_heads`, default 8).
    public var nHeads: Int = 8
    /// N, fusion blocks in sequence (`n_blocks`, default 4).
    public var nBlocks: Int = 4
    /// Hidden size of each block's feed-forward net (`ffn_dim`, default 3072).
    public var ffnDim: Int = 3072
    /// false: post-norm blocks; true: pre-norm blocks (`norm_first`, default false).
    public var normFirst: Bool = false
    /// The feed-forward activation (`activation`, default `gelu`).
    public var activation: Activation = .gelu
    /// Epsilon inside every LayerNorm (`layer_norm_eps`, default 1e-5).
    public var layerNormEps: Double = 1e-5
    /// Whether a LayerNorm follows the last block (`final_norm`, default false).
    public var finalNorm: Bool = false
    /// Whether the attention's input and output projections have biases (`attn_bias`, default true).
    public var attnBias: Bool = true

    /// The defaults of docs/model.md.
    public init() {}

    /// Head size dh = d / H (meaningful once ``validate()`` passed).
    public var headDim: Int { projDim / nHeads }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case imgLatentDim = "img_latent_dim"
        case txtLatentDim = "txt_latent_dim"
        case projDim = "proj_dim"
        case nHeads = "n_heads"
        case nBlocks = "n_blocks"
        case ffnDim = "ffn_dim"
        case normFirst = "norm_first"
        case activation
        case layerNormEps = "layer_norm_eps"
        case finalNorm = "final_norm"
        case attnBias = "attn_bias"
    }

    /// Every JSON key the configuration defines, sorted.
    public static let keys: [String] = CodingKeys.allCases.map(\.rawValue).sorted()
}
