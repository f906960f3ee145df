/// Why attention maps could not be read or rendered.
///
/// Every message names what was wrong (the axis, sample, block, head or option), what was expected
/// and what was found, so it can be shown to the person at the terminal as it is.
public struct HeatmapError: Error, CustomStringConvertible, Equatable {
    /// The full, human-readable message.
    public let description: String

    /// Wraps a finished message; callers in this module build it with the static factories below.
    init(_ description: String) {
        self.description = description
    }
}

extension HeatmapError {
    static func wrongRank(perStep: Bool, shape: [Int]) -> HeatmapError {
        let expected = perStep ? "per-step attention maps must have shape (B, T, N, H, T·P)"
                               : "plain attention maps must have shape (B, N, H, T·P)"
        return HeatmapError("\(expected); found \(shape.count) axes \(format(shape))")
    }

    static func unknownRank(shape: [Int]) -> HeatmapError {
        HeatmapError("attention maps must have 4 axes (B, N, H, T·P) or 5 axes (B, T, N, H, T·P); "
            + "found \(shape.count) axes \(format(shape))")
    }

    static func stepsDoNotDivideTokens(steps: Int, tokens: Int) -> HeatmapError {
        HeatmapError("per-step attention maps have \(steps) steps, which do not divide the \(tokens) tokens "
            + "of the last axis; give the tokens per frame")
    }

    static func emptyAxis(_ axis: String, shape: [Int]) -> HeatmapError {
        HeatmapError("attention maps shape \(format(shape)) has an empty axis \(axis); every axis needs at least 1 entry")
    }

    static func tooLarge(shape: [Int]) -> HeatmapError {
        HeatmapError("attention maps shape \(format(shape)) has more entries than this machine can address")
    }

    static func valueCount(shape: [Int], expected: Int, found: Int) -> HeatmapError {
        HeatmapError("attention maps shape \(format(shape)) needs \(expected) values; found \(found)")
    }

    static func tokensPerFrame(_ found: Int) -> HeatmapError {
        HeatmapError("tokens per frame must be at least 1; found \(found)")
    }

    static func tokensNotDivisible(tokens: Int, tokensPerFrame: Int) -> HeatmapError {
        HeatmapError("the token axis has \(tokens) tokens, which is not a multiple of \(tokensPerFrame) tokens per frame")
    }

    static func stepsMismatch(steps: Int, frames: Int, tokens: Int, tokensPerFrame: Int) -> HeatmapError {
        HeatmapError("per-step attention maps have \(steps) steps but \(frames) frames "
            + "(\(tokens) tokens / \(tokensPerFrame) per frame); the step axis and the frame count must agree")
    }

    static func badWeight(_ value: Float, index: [Int], names: [String]) -> HeatmapError {
        let named = zip(names, index).map { "\($0) \($1)" }.joined(separator: ", ")
        return HeatmapError("attention weight at \(format(index)) (\(named)) is \(value); "
            + "weights must be finite and not negative")
    }

    static func outOfRange(_ what: String, _ value: Int, count: Int) -> HeatmapError {
        let plural = count == 1 ? what : what + "s"
        return HeatmapError("\(what) \(value) is out of range: the maps hold \(count) \(plural) (0...\(count - 1))")
    }

    static let selectionOnPlainMaps = HeatmapError(
        "a block/head selection applies to per-step maps only; plain maps show every block × head as a row")

    static func option(_ name: String, atLeast minimum: Int, atMost maximum: Int? = nil, found: Int) -> HeatmapError {
        let range = maximum.map { "between \(minimum) and \($0)" } ?? "at least \(minimum)"
        return HeatmapError("\(name) must be \(range); found \(found)")
    }

    static func tooManyPanels(_ panels: Int, limit: Int) -> HeatmapError {
        HeatmapError("\(panels) panels (one per sample) exceed the limit of \(limit); "
            + "choose one sample or raise the panel limit")
    }

    /// `(2, 3, 4)`: the tuple form NumPy uses for shapes and indices.
    static func format(_ numbers: [Int]) -> String {
        "(" + numbers.map(String.init).joined(separator: ", ") + (numbers.count == 1 ? ",)" : ")")
    }
}
