#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Applies `activation` to every element in place (float32 arithmetic, libm `erff`/`tanhf`).
///
/// - gelu: `0.5·x·(1 + erf(x·(1/√2)))` — torch `nn.GELU()`.
/// - geluTanh: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` — torch `nn.GELU(approximate="tanh")`.
/// - relu: `max(x, 0)` — torch `nn.ReLU()`.
/// Complexity: O(n).
func applyActivation(_ activation: Activation, to values: UnsafeMutableBufferPointer<Float>) {
    switch activation {
    case .gelu:
        let inverseRoot2 = Float(0.70710678118654752440)
        for i in 0..<values.count {
            let x = values[i]
            values[i] = 0.5 * x * (1 + erff(x * inverseRoot2))
        }
    case .geluTanh:
        let root2OverPi = Float(0.79788456080286535588)
        for i in 0..<values.count {
            let x = values[i]
            values[i] = 0.5 * x * (1 + tanhf(root2OverPi * (x + 0.044715 * x * x * x)))
        }
    case .relu:
        for i in 0..<values.count where !(values[i] > 0) && !values[i].isNaN {
            values[i] = 0
        }
    }
}
