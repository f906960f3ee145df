/// Limits applied while reading untrusted files.
public struct NpyLimits: Sendable, Equatable {
    /// The longest .npy header (the dict text, in bytes as declared by the header-length field)
    /// accepted; numpy's default `max_header_size` is 10,000. Longer headers throw.
    public var maxHeaderLength: Int = 10_000

    /// numpy's defaults.
    public static let `default` = NpyLimits()

    /// Creates limits; `maxHeaderLength` must be ≥ 0.
    public init(maxHeaderLength: Int = 10_000) {
        precondition(maxHeaderLength >= 0, "maxHeaderLength must be >= 0, got \(maxHeaderLength)")
        self.maxHeaderLength = maxHeaderLength
    }
}
