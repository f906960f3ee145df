extension FusionConfig {
    /// Checks that the configuration describes a model that can exist.
    ///
    /// Rules: every size (`img_latent_dim`, `txt_latent_dim`, `proj_dim`, `n_heads`,
    /// `n_blocks`, `ffn_dim`) ≥ 1; `proj_dim` divisible by `n_heads`;
    /// `layer_norm_eps` finite and > 0.
    /// - Throws: ``FusionError/invalidConfigValue(origin:key:expected:found:)`` for the first rule broken,
    ///   with origin "configuration".
    public func validate() throws {
        try validate(origin: "configuration")
    }

    /// ``validate()`` with `origin` in its messages.
    func validate(origin: String) throws {
        let sizes: [(CodingKeys, Int)] = [
            (.imgLatentDim, imgLatentDim), (.txtLatentDim, txtLatentDim), (.projDim, projDim),
            (.nHeads, nHeads), (.nBlocks, nBlocks), (.ffnDim, ffnDim),
        ]
        for (key, value) in sizes where value < 1 {
            throw FusionError.invalidConfigValue(
                origin: origin, key: key.rawValue, expected: "an integer ≥ 1", found: String(value))
        }
        if projDim % nHeads != 0 {
            throw FusionError.invalidConfigValue(
                origin: origin, key: CodingKeys.projDim.rawValue,
                expected: "a multiple of n_heads = \(nHeads)", found: String(projDim))
        }
        if !(layerNormEps.isFinite && layerNormEps > 0) {
            throw FusionError.invalidConfigValue(
                origin: origin, key: CodingKeys.layerNormEps.rawValue,
                expected: "a finite number > 0", found: "\(layerNormEps)")
        }
    }
}
