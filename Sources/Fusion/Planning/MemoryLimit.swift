#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a run may use, and the rule for attention maps that would not fit in it — one place for
/// the CLI (`AttentionMapSize`) and the C interface.
public enum MemoryLimit {
    /// The smallest of physical memory, the cgroup's limit (v2 `memory.max`, v1
    /// `memory.limit_in_bytes`) and `FUSECTL_MEMORY_LIMIT` (bytes) when set.
    public static var bytes: Int {
        var limit = Int.max
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0 && pageSize > 0 {
            limit = pages.multipliedReportingOverflow(by: pageSize).overflow ? Int.max : pages * pageSize
        }
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let value = firstInteger(inFile: path), value > 0 { limit = min(limit, value) }
        }
        if let text = getenv("FUSECTL_MEMORY_LIMIT").flatMap({ String(validatingCString: $0) }), let value = Int(text), value > 0 {
            limit = min(limit, value)
        }
        return limit
    }

    /// Why attention maps of `mapBytes` bytes (`Int.max`: the count overflowed) cannot be held within
    /// `limit`, or nil when they fit. The maps are filled in memory and copied once more (written, or
    /// handed to the caller), so maps above a quarter of the limit are refused. Shape: B samples, T
    /// frames of P tokens (`tokens` = T·P), N blocks, H heads.
    public static func attentionRefusal(mapBytes: Int, limit: Int, batch: Int, frames: Int, tokens: Int,
                                        blocks: Int, heads: Int, perStep: Bool) -> String? {
        guard mapBytes > limit / 4 else { return nil }
        let shape = perStep
            ? "(B, T, N, H, T·P) = (\(batch), \(frames), \(blocks), \(heads), \(tokens))"
            : "(B, N, H, T·P) = (\(batch), \(blocks), \(heads), \(tokens))"
        let size = mapBytes == Int.max ? "more than 8 EiB" : byteText(mapBytes)
        return "the \(perStep ? "per-step " : "")attention maps \(shape) would take \(size) of float32, more than "
            + "a quarter of the \(byteText(limit)) of memory this run may use; drop the attention output"
            + (perStep
                ? ", or fuse shorter histories\(batch > 1 ? " or fewer samples at a time" : "") (per-step maps grow with T²)"
                : batch > 1 ? ", or fuse fewer samples at a time" : "")
    }

    /// Bytes for a person: "1.5 GiB".
    public static func byteText(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        guard unit > 0 else { return "\(bytes) bytes" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// The decimal integer a small text file starts with ("max" and unreadable files give nil).
    private static func firstInteger(inFile path: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Int(text.filter { !$0.isWhitespace })
    }
}
