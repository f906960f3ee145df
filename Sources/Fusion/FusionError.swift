/// Every error the `Fusion` library throws.
///
/// Each case carries enough to write one line for the person at the terminal: the
/// origin (file, member or input name), the key or sample concerned, what was
/// expected and what was found. `description` is that line; tests assert it.
public enum FusionError: Error, CustomStringConvertible, Equatable {
    /// The configuration JSON is not valid JSON or not an object.
    /// - origin: where the JSON came from (`weights.npz:config`, `config.json`).
    case malformedConfig(origin: String, detail: String)
    /// The configuration holds a key that the configuration does not define.
    case unknownConfigKey(origin: String, key: String)
    /// A configuration value has the wrong type or is out of range.
    case invalidConfigValue(origin: String, key: String, expected: String, found: String)
    /// A valid configuration whose weights would not fit where they must go (e.g. the machine's memory).
    case configurationTooLarge(origin: String, detail: String)
    /// The weights file is a PyTorch checkpoint (`torch.save`'s zip, with a pickled `data.pkl`), which
    /// fusectl cannot read; `scripts/convert_checkpoint.py` turns it into a weights .npz.
    case pytorchCheckpoint(file: String, member: String)
    /// Neither a `config` member nor a separate configuration was supplied.
    case missingConfig(origin: String)
    /// A separate configuration (`--config`) contradicts the weights file's own.
    /// - differences: each differing key with the separate configuration's value and the file's.
    case conflictingConfig(origin: String, embedded: String, differences: [String])
    /// A tensor the configuration requires is absent.
    case missingWeight(key: String, expectedShape: [Int], rule: String)
    /// A tensor is present that the configuration does not use.
    case unexpectedWeight(key: String, reason: String)
    /// A tensor has a different shape from the one the configuration implies.
    case weightShape(key: String, expected: [Int], found: [Int], rule: String)
    /// A weight member cannot be used as float32 data (not a float array, unreadable).
    case unreadableWeight(key: String, detail: String)
    /// A weight holds NaN or ±Inf (after conversion to float32) and non-finite weights were not allowed.
    /// - index: the full index of the first such element; value: its text (`nan`, `inf`, `-inf`).
    case nonFiniteWeight(key: String, index: [Int], value: String)
    /// Several tensors of a weights file differ from the model's table at once (unexpected, missing,
    /// of another shape): every one is listed, one per line, with shape-based suggestions.
    case weightNames(WeightNameMismatch)
    /// A rename rule (`old_prefix=new_prefix`) that cannot be parsed, matches no tensor, or maps two
    /// tensors onto one key.
    case invalidRename(rule: String, detail: String)
    /// A prefix was named but no tensor of the weights file starts with it.
    /// - tensorCount: how many tensors the file has (all outside the prefix); example: the first of them, sorted.
    case noWeightsUnderPrefix(prefix: String, tensorCount: Int, example: String, looksUnprefixed: Bool)
    /// A weight error (`missingWeight`, `unexpectedWeight`, `weightShape`, `unreadableWeight`,
    /// `nonFiniteWeight`, `noWeightsUnderPrefix`) found in the weights file `file`; the description is
    /// `FILE: ` followed by the inner error's.
    indirect case inWeightsFile(file: String, FusionError)
    /// An input is inconsistent with the model or with another input.
    /// - input: `text`, `images`, `text_lengths`, `text_mask` or `image_lengths`.
    /// - sample: the batch index concerned, when one is.
    case invalidInput(input: String, sample: Int?, detail: String)
    /// An input holds NaN or ±Inf and non-finite values were not allowed.
    /// - index: the full index of the first such element; value: its text (`nan`, `inf`, `-inf`).
    case nonFiniteInput(input: String, sample: Int, index: [Int], value: String)

    public var description: String {
        switch self {
        case let .malformedConfig(origin, detail):
            return "\(origin): the configuration is not a JSON object: \(detail)"
        case let .unknownConfigKey(origin, key):
            return "\(origin): unknown configuration key \"\(key)\" (known keys: \(FusionConfig.keys.joined(separator: ", ")))"
        case let .invalidConfigValue(origin, key, expected, found):
            return "\(origin): configuration key \"\(key)\": expected \(expected), found \(found)"
        case let .configurationTooLarge(origin, detail):
            return "\(origin): the configuration is too large: \(detail)"
        case let .pytorchCheckpoint(file, member):
            return "\(file): a PyTorch checkpoint (torch.save's zip, with the pickle '\(member)'), not a weights .npz or .safetensors file; convert it with scripts/convert_checkpoint.py (see docs/model.md)"
        case let .missingConfig(origin):
            return "\(origin): no configuration: the weights file has no \"config\" entry and no configuration JSON was given; give one with --config FILE (a JSON object, docs/model.md \"Configuration\")"
        case let .conflictingConfig(origin, embedded, differences):
            return "\(origin): the configuration contradicts the weights file's own (\(embedded)): "
                + differences.joined(separator: ", ")
                + "; drop --config to use the file's configuration, or correct the one that is wrong"
        case let .missingWeight(key, expectedShape, rule):
            return "missing weight \"\(key)\": expected shape \(shapeText(expectedShape)) \(rule)"
        case let .unexpectedWeight(key, reason):
            return "unexpected weight \"\(key)\": \(reason)"
        case let .weightShape(key, expected, found, rule):
            return "weight \"\(key)\": expected shape \(shapeText(expected)) \(rule), found \(shapeText(found))"
        case let .unreadableWeight(key, detail):
            return "weight \"\(key)\": \(detail)"
        case let .nonFiniteWeight(key, index, value):
            let position = index.map(String.init).joined(separator: ", ")
            return "weight \"\(key)\": non-finite value \(value) at [\(position)]"
        case let .weightNames(mismatch):
            return mismatch.description
        case let .invalidRename(rule, detail):
            return "rename rule \"\(rule)\": \(detail)"
        case let .noWeightsUnderPrefix(prefix, count, example, looksUnprefixed):
            let hint = looksUnprefixed ? "; they look like the model's own keys: drop the prefix" : ""
            return "no tensor starts with the prefix \"\(prefix)\" (all \(count) tensors are outside it, such as \"\(example)\")\(hint)"
        case let .inWeightsFile(file, error):
            return "\(file): \(error)"
        case let .invalidInput(input, sample, detail):
            if let sample {
                return "\(input): sample \(sample): \(detail)"
            }
            return "\(input): \(detail)"
        case let .nonFiniteInput(input, sample, index, value):
            let position = index.map(String.init).joined(separator: ", ")
            return "\(input): sample \(sample): non-finite value \(value) at [\(position)]"
        }
    }
}
