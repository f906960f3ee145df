extension FusionConfig {
    /// The largest `img_latent_dim`, `txt_latent_dim`, `proj_dim` and `ffn_dim` accepted: 2^20
    /// (1,048,576), far beyond any real encoder or model width.
    public static let maximumDimension = 1 << 20
    /// The largest `n_blocks` accepted: 4096.
    public static let maximumBlocks = 4096

    /// Checks that the configuration describes a model that can exist.
    ///
    /// Rules: `img_latent_dim`, `txt_latent_dim`, `proj_dim`, `ffn_dim` in 1…``maximumDimension``;
    /// `n_blocks` in 1…``maximumBlocks``; `n_heads` in 1…`proj_dim` and dividing it; `layer_norm_eps`
    /// finite and > 0. The bounds come before any size is computed from the values, so that hostile
    /// sizes (`{"n_blocks": 1000000000000}`, `proj_dim` near `Int.max`) are refused by name before any
    /// arithmetic or allocation; within them, ``weightCount()`` cannot overflow.
    /// - Throws: ``FusionError/invalidConfigValue(origin:key:expected:found:)`` for the first rule broken,
    ///   with origin "configuration".
    public func validate() throws {
        try validate(origin: "configuration")
    }

    /// ``validate()`` with `origin` in its messages.
    func validate(origin: String) throws {
        let sizes: [(CodingKeys, Int, Int)] = [
            (.imgLatentDim, imgLatentDim, Self.maximumDimension), (.txtLatentDim, txtLatentDim, Self.maximumDimension),
            (.projDim, projDim, Self.maximumDimension), (.nBlocks, nBlocks, Self.maximumBlocks),
            (.ffnDim, ffnDim, Self.maximumDimension),
        ]
        for (key, value, maximum) in sizes where value < 1 || value > maximum {
            throw FusionError.invalidConfigValue(
                origin: origin, key: key.rawValue, expected: "an integer from 1 to \(maximum)", found: String(value))
        }
        if nHeads < 1 || nHeads > projDim {
            throw FusionError.invalidConfigValue(
                origin: origin, key: CodingKeys.nHeads.rawValue,
                expected: "an integer from 1 to proj_dim = \(projDim)", found: String(nHeads))
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

    /// The number of weights (elements of every tensor of ``expectedWeights()``), or nil when it does
    /// not fit an `Int`. Every product and sum is overflow-checked; for a configuration that passed
    /// ``validate()`` it is at most about 2^57 and never nil.
    ///
    /// Per block: in_proj 3d·d (+3d), out_proj d·d (+d), two LayerNorms 4d, ffn 2·ffn·d + ffn + d;
    /// plus d·txt + d·img and, with `final_norm`, 2d.
    public func weightCount() -> Int? {
        func product(_ factors: Int...) -> Int? {
            var result = 1
            for factor in factors {
                let (next, overflow) = result.multipliedReportingOverflow(by: factor)
                if overflow { return nil }
                result = next
            }
            return result
        }
        func sum(_ terms: Int?...) -> Int? {
            var result = 0
            for term in terms {
                guard let term else { return nil }
                let (next, overflow) = result.addingReportingOverflow(term)
                if overflow { return nil }
                result = next
            }
            return result
        }
        let d = projDim
        let biases = attnBias ? product(4, d) : 0
        guard let block = sum(product(4, d, d), biases, product(4, d), product(2, ffnDim, d), ffnDim, d),
              let blocks = product(nBlocks, block) else { return nil }
        return sum(product(d, txtLatentDim), product(d, imgLatentDim), blocks, finalNorm ? product(2, d) : 0)
    }

    /// Checks that the weights, at `bytesPerWeight` bytes each, fit in `limit` bytes (for instance the
    /// machine's memory, before ``WeightInitializer`` allocates them).
    /// - Throws: ``FusionError/configurationTooLarge(origin:detail:)`` naming the sizes that make it up.
    public func checkWeightsFit(bytesPerWeight: Int, limit: Int, origin: String) throws {
        let count = weightCount()
        let bytes = count.flatMap { count -> Int? in
            let (bytes, overflow) = count.multipliedReportingOverflow(by: bytesPerWeight)
            return overflow ? nil : bytes
        }
        guard let bytes, bytes <= limit else {
            let sizes = "n_blocks = \(nBlocks), proj_dim = \(projDim), ffn_dim = \(ffnDim), img_latent_dim = \(imgLatentDim), txt_latent_dim = \(txtLatentDim)"
            let amount = count.map { "\($0) weights, \(bytes.map(String.init) ?? "more than Int.max") bytes" } ?? "more than Int.max weights"
            throw FusionError.configurationTooLarge(
                origin: origin, detail: "\(sizes) make \(amount); at most \(limit) bytes are available")
        }
    }
}
