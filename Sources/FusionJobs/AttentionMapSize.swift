import Foundation
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

    /// Refuses maps larger than a quarter of `memoryLimit` (bytes).
    ///
    /// - Throws: `JobError.inputs` with the maps' shape, their size and the limit.
    public static func check(_ inputs: FusionInputs, config: FusionConfig, options: FusionOptions,
                             memoryLimit: Int = AttentionMapSize.memoryLimit) throws {
        guard let bytes = bytes(for: inputs, config: config, options: options), bytes > memoryLimit / 4 else { return }
        let (b, n, h, t, p) = (inputs.batchSize, config.nBlocks, config.nHeads, inputs.frames, inputs.tokensPerFrame)
        let shape = options.perStep
            ? "(B, T, N, H, T·P) = (\(b), \(t), \(n), \(h), \(t * p))"
            : "(B, N, H, T·P) = (\(b), \(n), \(h), \(t * p))"
        let size = bytes == Int.max ? "more than 8 EiB" : byteText(bytes)
        throw JobError.inputs(
            "the \(options.perStep ? "per-step " : "")attention maps \(shape) would take \(size) of float32, more than "
                + "a quarter of the \(byteText(memoryLimit)) of memory this run may use; drop the attention output"
                + (options.perStep
                    ? ", or fuse shorter histories\(b > 1 ? " or fewer samples at a time" : "") (per-step maps grow with T²)"
                    : b > 1 ? ", or fuse fewer samples at a time" : ""))
    }

    /// The memory a run may use: the smallest of the machine's physical memory, the cgroup's limit
    /// (v2 `memory.max`, v1 `memory.limit_in_bytes`) and `FUSECTL_MEMORY_LIMIT` (bytes) when set.
    public static var memoryLimit: Int {
        var limit = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        for file in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0 {
                limit = min(limit, value)
            }
        }
        if let text = ProcessInfo.processInfo.environment["FUSECTL_MEMORY_LIMIT"], let value = Int(text), value > 0 {
            limit = min(limit, value)
        }
        return limit
    }

    /// Bytes for a person: "1.5 GiB".
    static func byteText(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
