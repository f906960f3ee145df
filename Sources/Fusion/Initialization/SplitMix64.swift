/// SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of xoshiro): a 64-bit state advanced by
/// 0x9E3779B97F4A7C15 and mixed by two multiply-xorshift rounds. Deterministic for a seed on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Starts the stream at `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float32 uniform on [−bound, bound): u = (next() >> 40)·2⁻²⁴ (24 random bits) and
    /// Float(−bound + 2·bound·u) computed in Double.
    public mutating func uniform(bound: Double) -> Float {
        let u = Double(next() >> 40) * 0x1p-24
        return Float(-bound + 2 * bound * u)
    }
}
