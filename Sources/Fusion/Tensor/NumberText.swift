#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `value` with `decimals` digits after the point, as C's `%.*f` writes it (`formatted(2.345, decimals: 1)`
/// is "2.3"): what `String(format:)` gave, without Foundation.
func formatted(_ value: Double, decimals: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let written = withVaList([Int32(max(0, min(decimals, 17))), value]) { arguments in
        buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, $0.count, "%.*f", arguments) }
    }
    guard written >= 0 && Int(written) < buffer.count else { return "\(value)" }
    return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `text` padded with spaces on the right to `width` characters (never cut).
func padded(_ text: String, to width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
