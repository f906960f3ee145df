extension FusionModel {
    /// The reference forward pass: the computation of docs/model.md followed literally, sample by sample.
    ///
    /// Plain mode: output (B, 1, d), sample b attends over its first image_lengths[b]·P tokens.
    /// Per-step mode: output (B, T, d), row t = plain fusion of frames 0…t for t < image_lengths[b],
    /// zero otherwise. With `options.attention`: weights (B, N, H, T·P) or (B, T, N, H, T·P), zero at
    /// masked tokens and at steps t ≥ image_lengths[b].
    ///
    /// All arithmetic is float32 with sums in a fixed index order, and each sample is computed on its
    /// own, so results are identical for any thread count, batch composition or padding. This path
    /// stays simple on purpose: faster paths are tested against it.
    /// - Throws: whatever reading `inputs`' sources throws (the lowest failing sample's error).
    /// - Complexity: per sample O(S·(img·d + N·d²)) plus O(N·(d² + d·ffn + S·d)) per query, S = valid tokens;
    ///   per-step mode runs one query per valid frame.
    public func fuseReference(_ inputs: FusionInputs, options: FusionOptions) throws -> FusionResult {
        let batch = inputs.batchSize
        let frames = inputs.frames
        let perFrame = inputs.tokensPerFrame
        let tokens = inputs.tokens
        let d = config.projDim
        let n = config.nBlocks
        let h = config.nHeads
        let steps = options.perStep ? frames : 1
        var output = Tensor(zeros: [batch, steps, d])
        let attentionShape: [Int]? = options.attention ? (options.perStep ? [batch, frames, n, h, tokens] : [batch, n, h, tokens]) : nil
        // One buffer, wrapped as the result's tensor at the end (no zero-filled twin to copy on write).
        var attentionValues = [Float](repeating: 0, count: attentionShape.map(elementCount) ?? 0)
        try output.values.withUnsafeMutableBufferPointer { out in
            try attentionValues.withUnsafeMutableBufferPointer { weightsOut in
                try forEachSample(count: batch, threads: options.resolvedThreads) { b in
                    let length = inputs.imageLengths[b]
                    let sample = ReferenceSample(
                        model: self,
                        pooledText: try inputs.text.elements(in: inputs.pooledTextRange(sample: b)),
                        imageTokens: try inputs.images.elements(in: inputs.imageRange(sample: b, frames: length)),
                        tokens: length * perFrame)
                    let runs = options.perStep ? Array(0..<length) : [length - 1]
                    for (row, lastFrame) in runs.enumerated() {
                        let valid = (lastFrame + 1) * perFrame
                        let result = sample.run(validTokens: valid)
                        let outputRow = (b * steps + (options.perStep ? row : 0)) * d
                        for k in 0..<d {
                            out[outputRow + k] = result.output[k]
                        }
                        guard options.attention else { continue }
                        let stepBase = (b * steps + (options.perStep ? row : 0)) * n * h * tokens
                        for i in 0..<n {
                            for head in 0..<h {
                                let base = stepBase + (i * h + head) * tokens
                                for j in 0..<valid {
                                    weightsOut[base + j] = result.weights[i][head * valid + j]
                                }
                            }
                        }
                    }
                }
            }
        }
        let attention = attentionShape.map { Tensor(shape: $0, values: attentionValues) }
        return FusionResult(output: output, attention: attention)
    }
}
