/// Every way a state_dict's tensors differ from the model's weights table, found at once: the keys
/// the model does not have, the keys it needs and did not get, and the shapes that differ — with a
/// suggestion where a shape identifies the tensor an unexpected key stands for.
///
/// ``WeightStore/check(config:shapes:)`` throws it (as ``FusionError/weightNames(_:)``) when a file
/// has more than one such problem, so that a user with their own module names sees every one of
/// them, and the rename rules that would fix the suggested ones, in one error.
public struct WeightNameMismatch: Sendable, Equatable, CustomStringConvertible {
    /// A key that is not one of the model's.
    public struct Unexpected: Sendable, Equatable {
        /// The key as the file names it (prefix included).
        public var key: String
        /// The model key it was renamed to by a rename rule, when one applied.
        public var renamed: String?
        public var shape: [Int]
        /// Why it is not used (``FusionConfig/reasonUnexpected(_:)``).
        public var reason: String
        /// The missing model key that this tensor's shape (and, where the shape is shared, its block
        /// number and last name part) identifies unambiguously, if any.
        public var looksLike: String?
    }

    /// A key present with another shape than the configuration's.
    public struct WrongShape: Sendable, Equatable {
        public var key: String
        public var expected: [Int]
        public var found: [Int]
        public var rule: String
    }

    public var unexpected: [Unexpected]
    /// The model's keys that are absent, in state_dict order (``FusionConfig/expectedWeights()``),
    /// named as the file would name them (prefix included).
    public var missing: [WeightSpec]
    public var wrongShapes: [WrongShape]
    /// Rename rules (`old=new`, over names without the prefix) that would map every suggested
    /// tensor onto its model key; empty when no suggestion was made.
    public var suggestedRenames: [String] = []

    public var description: String {
        var counts: [String] = []
        if !unexpected.isEmpty { counts.append("\(unexpected.count) unexpected") }
        if !missing.isEmpty { counts.append("\(missing.count) missing") }
        if !wrongShapes.isEmpty { counts.append("\(wrongShapes.count) of another shape") }
        var lines = ["the tensors do not match the model's weights (\(counts.joined(separator: ", "))):"]
        for item in unexpected {
            let renamed = item.renamed.map { " (renamed to \"\($0)\")" } ?? ""
            if let looksLike = item.looksLike {
                lines.append("  unexpected \"\(item.key)\"\(renamed) \(shapeText(item.shape)) looks like \"\(looksLike)\"")
            } else {
                lines.append("  unexpected \"\(item.key)\"\(renamed) \(shapeText(item.shape)): \(item.reason)")
            }
        }
        for spec in missing {
            lines.append("  missing \"\(spec.key)\": expected shape \(shapeText(spec.shape)) \(spec.rule)")
        }
        for item in wrongShapes {
            lines.append("  weight \"\(item.key)\": expected shape \(shapeText(item.expected)) \(item.rule), found \(shapeText(item.found))")
        }
        if !suggestedRenames.isEmpty {
            lines.append("  the suggested names follow from: " + suggestedRenames.map { "--rename \($0)" }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// Matches unexpected tensors to missing keys by shape: a missing key is suggested for an
    /// unexpected tensor when it is the only missing key of that shape and the tensor the only
    /// unexpected one of that shape; where a shape is shared (the blocks' norms and biases), the
    /// candidates on both sides are narrowed to those with the same block number (the first number
    /// in the name) and the same last name part (`weight`, `bias`, `in_proj_weight`), and a pair that
    /// is then alone is suggested.
    mutating func suggest() {
        func number(_ key: String) -> Int? {
            key.split(separator: ".").lazy.compactMap { Int($0) }.first
        }
        func leaf(_ key: String) -> Substring { key.split(separator: ".").last ?? "" }
        for index in unexpected.indices {
            let item = unexpected[index]
            let name = item.renamed ?? item.key
            var candidates = missing.filter { $0.shape == item.shape }
            var rivals = unexpected.filter { $0.shape == item.shape }
            if candidates.count > 1 || rivals.count > 1 {
                candidates = candidates.filter { number($0.key) == number(name) && leaf($0.key) == leaf(name) }
                rivals = rivals.filter {
                    let other = $0.renamed ?? $0.key
                    return number(other) == number(name) && leaf(other) == leaf(name)
                }
            }
            if candidates.count == 1 && rivals.count == 1 {
                unexpected[index].looksLike = candidates[0].key
            }
        }
    }
}
