/// The feed-forward non-linearity of every block (configuration key `activation`).
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// Exact GELU, `0.5·x·(1 + erf(x/√2))` — torch `nn.GELU()`.
    case gelu
    /// Tanh-approximated GELU, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` — torch `nn.GELU(approximate="tanh")`.
    case geluTanh = "gelu_tanh"
    /// `max(x, 0)` — torch `nn.ReLU()`.
    case relu
}
