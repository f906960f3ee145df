import Fusion

/// How large a run's attention maps would be, and the refusal when they cannot be held.
///
/// Plain maps are B·N·H·T·P floats, linear in the inputs; per-step maps are B·T·N·H·T·P floats,
/// quadratic in the history length T (B = 1, T = 65,536 frames, N = H = 8: 1 TiB). The forward pass
/// fills them in memory and writing makes one more copy, so maps that take more than a quarter of
/// the memory a run may use are refused before the forward pass, with the size in the message,
/// instead of dying of memory midway. `AttentionStream` keeps only one group of samples' maps in
/// memory where the destination allows, so there the limit applies to one sample's maps.
public enum AttentionMapSize {
    /// The float32 maps `options` asks for on `inputs`, in bytes; nil when none are asked for, and
    /// `Int.max` when the count overflows.
    public static func bytes(for inputs: FusionInputs, config: FusionConfig, options: FusionOptions) -> Int? {
        guard options.attention else { return nil }
        var dimensions = [inputs.batchSize, config.nBlocks, config.nHeads, inputs.tokens, 4]
        if options.perStep { dimensions.append(inputs.frames) }
        var product = 1
        for dimension in dimensions {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return Int.max }
            product = next
        }
        return product
    }

    /// Refuses maps larger than a quarter of `memoryLimit` (bytes): `MemoryLimit.attentionRefusal`.
    ///
    /// - Throws: `JobError.inputs` with the maps' shape, their size and the limit.
    public static func check(_ inputs: FusionInputs, config: FusionConfig, options: FusionOptions,
                             memoryLimit: Int = MemoryLimit.bytes) throws {
        guard let bytes = bytes(for: inputs, config: config, options: options),
              let refusal = MemoryLimit.attentionRefusal(
                  mapBytes: bytes, limit: memoryLimit, batch: inputs.batchSize, frames: inputs.frames,
                  tokens: inputs.tokens, blocks: config.nBlocks, heads: config.nHeads, perStep: options.perStep)
        else { return }
        throw JobError.inputs(refusal)
    }

    /// The memory a run may use (`MemoryLimit.bytes`).
    public static var memoryLimit: Int { MemoryLimit.bytes }
}
