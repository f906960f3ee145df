import FusionKernels
import Testing

/// Every FusionKernels test lives in a nested suite of this one. `.serialized` makes
/// them run one at a time: tests switch the process-wide CPU path with
/// `fk_cpu_set_level`, which would otherwise race between tests.
@Suite(.serialized) enum KernelsSuite {}

/// The CPU paths this machine can run, lowest first.
let supportedLevels: [fk_cpu_level] = [FK_CPU_SCALAR, FK_CPU_AVX2, FK_CPU_AVX512].filter {
    $0.rawValue <= fk_cpu_detected().rawValue
}

/// Runs `body` once per supported CPU path with kernels dispatched to it, then
/// restores the best path.
func forEachLevel(_ body: (fk_cpu_level) throws -> Void) rethrows {
    defer { fk_cpu_set_level(fk_cpu_detected()) }
    for level in supportedLevels {
        #expect(fk_cpu_set_level(level) == level)
        try body(level)
    }
}

/// The name of a CPU path, for messages.
func name(_ level: fk_cpu_level) -> String { String(cString: fk_cpu_level_name(level)) }

/// SplitMix64: a small deterministic generator so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` floats, uniform in [-scale, scale), from a fixed seed.
func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in Float.random(in: -scale..<scale, using: &rng) }
}

/// Bit patterns, for exact comparisons that also tell -0 from +0 and compare NaNs.
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// The first index where two arrays differ in bits, with both values, or nil.
func firstBitDifference(_ a: [Float], _ b: [Float]) -> (index: Int, a: Float, b: Float)? {
    precondition(a.count == b.count, "comparing arrays of \(a.count) and \(b.count) floats")
    for i in a.indices where a[i].bitPattern != b[i].bitPattern { return (i, a[i], b[i]) }
    return nil
}

/// Largest |got − want| / scale[i] and where it occurs.
func worstError(_ got: [Float], _ want: [Double], scale: [Double]) -> (error: Double, index: Int) {
    var worst = (error: 0.0, index: 0)
    for i in got.indices {
        let e = abs(Double(got[i]) - want[i]) / scale[i]
        if !(e <= worst.error) { worst = (e, i) }
    }
    return worst
}
