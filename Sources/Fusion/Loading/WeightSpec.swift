/// One tensor the fusion model needs: its state_dict key, its shape under a configuration,
/// and how that shape follows from the configuration (for error messages).
public struct WeightSpec: Sendable, Equatable {
    /// The key, e.g. `fusor.blocks.0.attn.in_proj_weight`.
    public let key: String
    /// The shape the configuration implies.
    public let shape: [Int]
    /// Where the shape comes from, e.g. `from the configuration's (3·proj_dim, proj_dim)`.
    public let rule: String
}

extension FusionConfig {
    /// The weights table of docs/model.md for this configuration, in state_dict order: `text_proj.proj.weight`,
    /// `vision_proj.proj.weight`, then per block `attn.in_proj_weight`, `attn.in_proj_bias`*,
    /// `attn.out_proj.weight`, `attn.out_proj.bias`*, `norm1.*`, `ffn.0.*`, `ffn.2.*`, `norm2.*`,
    /// then `fusor.final_norm.*`* (* only when `attn_bias` / `final_norm`).
    public func expectedWeights() -> [WeightSpec] {
        let d = projDim
        func spec(_ key: String, _ shape: [Int], _ names: String, block: Int? = nil) -> WeightSpec {
            var rule = "from the configuration's \(names)"
            if let block {
                rule += ", block \(block) of n_blocks = \(nBlocks)"
            }
            return WeightSpec(key: key, shape: shape, rule: rule)
        }
        var specs = [
            spec("text_proj.proj.weight", [d, txtLatentDim], "(proj_dim, txt_latent_dim)"),
            spec("vision_proj.proj.weight", [d, imgLatentDim], "(proj_dim, img_latent_dim)"),
        ]
        for i in 0..<nBlocks {
            let p = "fusor.blocks.\(i)."
            specs.append(spec(p + "attn.in_proj_weight", [3 * d, d], "(3·proj_dim, proj_dim)", block: i))
            if attnBias {
                specs.append(spec(p + "attn.in_proj_bias", [3 * d], "(3·proj_dim,)", block: i))
            }
            specs.append(spec(p + "attn.out_proj.weight", [d, d], "(proj_dim, proj_dim)", block: i))
            if attnBias {
                specs.append(spec(p + "attn.out_proj.bias", [d], "(proj_dim,)", block: i))
            }
            specs.append(spec(p + "norm1.weight", [d], "(proj_dim,)", block: i))
            specs.append(spec(p + "norm1.bias", [d], "(proj_dim,)", block: i))
            specs.append(spec(p + "ffn.0.weight", [ffnDim, d], "(ffn_dim, proj_dim)", block: i))
            specs.append(spec(p + "ffn.0.bias", [ffnDim], "(ffn_dim,)", block: i))
            specs.append(spec(p + "ffn.2.weight", [d, ffnDim], "(proj_dim, ffn_dim)", block: i))
            specs.append(spec(p + "ffn.2.bias", [d], "(proj_dim,)", block: i))
            specs.append(spec(p + "norm2.weight", [d], "(proj_dim,)", block: i))
            specs.append(spec(p + "norm2.bias", [d], "(proj_dim,)", block: i))
        }
        if finalNorm {
            specs.append(spec("fusor.final_norm.weight", [d], "(proj_dim,)"))
            specs.append(spec("fusor.final_norm.bias", [d], "(proj_dim,)"))
        }
        return specs
    }

    /// Why `key` is not among ``expectedWeights()``: names the configuration value that excludes it
    /// when there is one (n_blocks, attn_bias, final_norm), else says it is not a tensor of the model.
    func reasonUnexpected(_ key: String) -> String {
        let everyKey = FusionConfig.allSpecKeys(blocks: max(nBlocks, blockIndex(of: key).map { $0 + 1 } ?? 0))
        if let block = blockIndex(of: key), block >= nBlocks, everyKey.contains(key) {
            return "the configuration has n_blocks = \(nBlocks) (blocks 0…\(nBlocks - 1))"
        }
        if !attnBias, key.hasSuffix("attn.in_proj_bias") || key.hasSuffix("attn.out_proj.bias"), everyKey.contains(key) {
            return "the configuration has attn_bias = false"
        }
        if !finalNorm, key.hasPrefix("fusor.final_norm.") && everyKey.contains(key) {
            return "the configuration has final_norm = false"
        }
        if let (known, prefix) = leftoverPrefix(key) {
            return "not a tensor of the fusion model; it looks like \"\(known)\" under the prefix \"\(prefix)\", which must be named to be stripped"
        }
        return "not a tensor of the fusion model"
    }

    /// The model key that `key` ends with after a dot, and the prefix before it
    /// (`policy.fusion.fusor.blocks.0.norm1.bias` → (`fusor.blocks.0.norm1.bias`, `policy.fusion.`)), or nil.
    func leftoverPrefix(_ key: String) -> (known: String, prefix: String)? {
        let everyKey = FusionConfig.allSpecKeys(blocks: max(nBlocks, blockIndex(of: key).map { $0 + 1 } ?? 0))
        guard let known = everyKey.sorted().first(where: { key.hasSuffix("." + $0) }) else { return nil }
        return (known, String(key.dropLast(known.count)))
    }

    /// The block index in `fusor.blocks.{i}.…`, or nil.
    private func blockIndex(of key: String) -> Int? {
        let marker = "fusor.blocks."
        guard key.hasPrefix(marker) else { return nil }
        let rest = key.dropFirst(marker.count)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return Int(rest[..<dot])
    }

    /// Every key the weights table can name for `blocks` blocks, biases and final norm included.
    private static func allSpecKeys(blocks: Int) -> Set<String> {
        var full = FusionConfig()
        full.nBlocks = max(blocks, 1)
        full.attnBias = true
        full.finalNorm = true
        return Set(full.expectedWeights().map(\.key))
    }
}
