/// One rename rule for a state_dict's keys, `old_prefix=new_prefix`: a key inside the model's
/// prefix (after the prefix is stripped) that starts with `old` has that start replaced by `new`.
///
/// Users whose own PyTorch modules carry other names (`img_proj.weight` for the model's
/// `vision_proj.proj.weight`) map them with one rule per module: `img_proj.=vision_proj.proj.`.
/// Of several rules the one with the longest matching `old` applies (so a specific rule overrides
/// a general one, whatever their order); a key no rule matches keeps its name.
public struct WeightRename: Sendable, Equatable, CustomStringConvertible {
    /// The start of the key to replace (may be empty: every key gets `new` in front).
    public let old: String
    /// What replaces it (may be empty: `old` is dropped).
    public let new: String

    public init(old: String, new: String) {
        self.old = old
        self.new = new
    }

    /// Parses `old_prefix=new_prefix` (split at the first `=`).
    /// - Throws: ``FusionError/invalidRename(rule:detail:)`` without an `=`, or with both sides empty.
    public init(parsing rule: String) throws {
        guard let equals = rule.firstIndex(of: "=") else {
            throw FusionError.invalidRename(rule: rule, detail: "expected old_prefix=new_prefix (e.g. img_proj.=vision_proj.proj.)")
        }
        let old = String(rule[..<equals]), new = String(rule[rule.index(after: equals)...])
        if old.isEmpty && new.isEmpty {
            throw FusionError.invalidRename(rule: rule, detail: "both sides are empty")
        }
        self.init(old: old, new: new)
    }

    /// `old=new`, as written on the command line.
    public var description: String { "\(old)=\(new)" }

    /// The longest-matching rule of `rules` applied to `key`, or `key` itself when none matches.
    public static func apply(_ rules: [WeightRename], to key: String) -> String {
        guard let rule = rules.filter({ key.hasPrefix($0.old) }).max(by: { $0.old.count < $1.old.count }) else {
            return key
        }
        return rule.new + key.dropFirst(rule.old.count)
    }

    /// Renames every key of `names` (the tensors' names once the prefix is stripped).
    ///
    /// - Returns: the model key of each name (`names[i]` → result key), and its inverse.
    /// - Throws: ``FusionError/invalidRename(rule:detail:)`` for a rule that matches no name (a typo
    ///   would otherwise pass unseen) or two names renamed onto one key (naming both).
    static func map(_ names: [String], with rules: [WeightRename], shownAs fileName: (String) -> String) throws
        -> (modelKey: [String: String], fileKey: [String: String])
    {
        var modelKey: [String: String] = [:], fileKey: [String: String] = [:]
        for rule in rules where !names.contains(where: { $0.hasPrefix(rule.old) }) {
            throw FusionError.invalidRename(
                rule: rule.description,
                detail: rule.old.isEmpty ? "there is no tensor to rename" : "no tensor name starts with \"\(fileName(rule.old))\"")
        }
        for name in names.sorted() {
            let key = apply(rules, to: name)
            if let other = fileKey[key] {
                throw FusionError.invalidRename(
                    rule: rules.filter { name.hasPrefix($0.old) || other.hasPrefix($0.old) }.map(\.description)
                        .joined(separator: " "),
                    detail: "\"\(fileName(other))\" and \"\(fileName(name))\" would both become \"\(key)\"")
            }
            modelKey[name] = key
            fileKey[key] = name
        }
        return (modelKey, fileKey)
    }
}
