import NpyIO

/// A model loaded from a weights file, with what the loader left aside.
public struct LoadedWeights: Sendable {
    /// The checked model.
    public let model: FusionModel
    /// The file's tensor keys outside the prefix, sorted: tensors of the rest of a larger model
    /// (`policy.head.*`, `value.*`), neither read nor checked. Always empty without a prefix.
    public let leftAside: [String]
    /// The prefix stripped from the model's keys ("" for none).
    public let prefix: String
    /// The weights file, as named in errors.
    public let source: String
    /// What the model's tensors hold, independent of the file's name, layout and time: FNV-1a (64
    /// bits, hex) over one line per tensor in key order, `KEY DTYPE SHAPE CRC32`, where CRC32 is the
    /// checksum the archive already checked (a .npz member's) or one computed over the tensor's bytes
    /// (.safetensors). Equal tensors under equal keys give equal fingerprints; the configuration is
    /// not part of it.
    public let fingerprint: String
    /// The tensors a rename rule renamed: their name in the file (prefix included) → their model key, sorted by name.
    public var renamed: [(file: String, key: String)] = []

    /// One line for a person: how many tensors were used and how many left aside, e.g.
    /// `weights w.npz: 27 tensors under the prefix "policy.fusion." used, 4 outside it left aside (policy.head.bias, …)`.
    public var summary: String {
        let used = model.config.expectedWeights().count
        var line: String
        if prefix.isEmpty {
            line = "weights \(source): \(used) tensors used"
        } else {
            line = "weights \(source): \(used) tensors under the prefix \"\(prefix)\" used, \(leftAside.count) outside it left aside"
            if !leftAside.isEmpty {
                let shown = leftAside.prefix(3).joined(separator: ", ")
                line += " (\(shown)\(leftAside.count > 3 ? ", …" : ""))"
            }
        }
        if !renamed.isEmpty {
            let shown = renamed.prefix(3).map { "\($0.file) -> \($0.key)" }.joined(separator: ", ")
            line += "; \(renamed.count) renamed (\(shown)\(renamed.count > 3 ? ", …" : ""))"
        }
        return line
    }
}

extension FusionModel {
    /// Loads and checks weights from named NumPy arrays — the members of a state_dict `.npz`
    /// (docs/model.md, "The weights file") — and returns the model alone; see
    /// ``loadWeights(memberNames:array:source:prefix:configJSON:configOrigin:allowNonfinite:)``.
    public static func load(
        memberNames: [String], array: (String) throws -> NpyArray, source: String, prefix: String?,
        renames: [WeightRename] = [], configJSON: String?, configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> FusionModel {
        try loadWeights(
            memberNames: memberNames, array: array, source: source, prefix: prefix, renames: renames, configJSON: configJSON,
            configOrigin: configOrigin, allowNonfinite: allowNonfinite
        ).model
    }

    /// Loads and checks weights from named NumPy arrays — the members of a state_dict `.npz`
    /// (docs/model.md, "The weights file"); ``loadWeights(from:prefix:configJSON:configOrigin:allowNonfinite:)``
    /// calls this for an archive.
    ///
    /// - Parameters:
    ///   - memberNames: every member name (without `.npy`); `array(name)` reads one.
    ///   - source: names the weights file in error messages (its path).
    ///   - prefix: e.g. `policy.fusion.`; nil or "" for none. With a prefix, members that do not start
    ///     with it belong to the rest of a larger model: they are left aside, never read; the members
    ///     that do start with it must be exactly the model's tensors once it is stripped. The
    ///     configuration member may be `config` or `prefix + "config"` (two that differ are an error).
    ///   - renames: rename rules applied to the names inside the prefix once it is stripped
    ///     (``WeightRename``); each must match some name, and no two names may become one key.
    ///   - configJSON: configuration JSON that replaces the `config` member (which may then be absent).
    ///   - configOrigin: names `configJSON` in error messages (e.g. the `--config` file's path).
    ///   - allowNonfinite: let NaN and ±Inf weights through instead of failing.
    /// - Returns: the model and the member names left aside. Little-endian float32 members at 4-byte
    ///   aligned addresses (every member of an archive `fusectl init` writes) are read in place from
    ///   the archive's memory map, which the model keeps alive; other members (float16/float64,
    ///   big-endian, Fortran order, unaligned, as `np.savez` usually places them) are converted once
    ///   to float32 (see `Tensor.init(_:)`).
    /// - Throws: ``FusionError/missingConfig(origin:)`` without any configuration; the configuration's
    ///   decoding errors (origin: the member's origin or `configOrigin`); and, wrapped in
    ///   ``FusionError/inWeightsFile(file:_:)`` with `source`: ``FusionError/unexpectedWeight(key:reason:)``
    ///   for a second, different configuration member; ``FusionError/noWeightsUnderPrefix(prefix:tensorCount:example:looksUnprefixed:)``
    ///   when a prefix matches no tensor; ``FusionError/invalidRename(rule:detail:)``; every check of
    ///   ``WeightStore/check(config:shapes:)`` (``FusionError/weightNames(_:)`` for several problems), on
    ///   shapes before any tensor data is read, naming keys as the file's members (prefix included);
    ///   ``FusionError/unreadableWeight(key:detail:)`` for a member that is not a float array;
    ///   ``FusionError/nonFiniteWeight(key:index:value:)`` for the first NaN or ±Inf (unless allowed).
    ///   `NpyError` from reading members.
    public static func loadWeights(
        memberNames: [String], array: (String) throws -> NpyArray, checksum: ((String) throws -> UInt32)? = nil,
        source: String, prefix: String?, renames: [WeightRename] = [],
        configJSON: String?, configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> LoadedWeights {
        let configNames: Set<String> = ["config", (prefix ?? "") + "config"]
        return try loadWeights(
            tensorNames: memberNames.filter { !configNames.contains($0) }, array: array,
            checksum: checksum, source: source, prefix: prefix, renames: renames,
            configJSON: configJSON, configOrigin: configOrigin, allowNonfinite: allowNonfinite,
            embeddedConfig: {
                var found: (name: String, text: String)?
                for name in memberNames.sorted() where configNames.contains(name) {
                    let text = try array(name).stringScalar()
                    if let found, found.text != text {
                        throw FusionError.inWeightsFile(file: source, .unexpectedWeight(
                            key: name, reason: "a second configuration member that differs from \"\(found.name)\""))
                    }
                    found = (name, text)
                }
                return found.map { ($0.text, "\(source):\($0.name)") }
            })
    }

    /// The loader behind every weights file format: `tensorNames` are the file's tensors (no
    /// configuration entries), `embeddedConfig` finds the file's own configuration text and its origin
    /// (nil when it has none), `checksum` gives a tensor's CRC-32 for ``LoadedWeights/fingerprint`` (nil: computed
    /// over the array's bytes).
    /// A `configJSON` given beside an embedded configuration must agree with it
    /// (``FusionError/conflictingConfig(origin:embedded:differences:)``).
    static func loadWeights(
        tensorNames: [String], array: (String) throws -> NpyArray, checksum: ((String) throws -> UInt32)?,
        source: String, prefix: String?, renames: [WeightRename] = [],
        configJSON: String?, configOrigin: String, allowNonfinite: Bool,
        embeddedConfig: () throws -> (text: String, origin: String)?
    ) throws -> LoadedWeights {
        let prefix = prefix ?? ""
        let config: FusionConfig
        if let configJSON {
            config = try FusionConfig.decode(json: configJSON, origin: configOrigin)
            if let found = try embeddedConfig() {
                let embedded = try FusionConfig.decode(json: found.text, origin: found.origin)
                let differences = config.differences(from: embedded)
                if !differences.isEmpty {
                    throw FusionError.conflictingConfig(
                        origin: configOrigin, embedded: found.origin,
                        differences: differences.map { "\($0.key) \($0.this) (file: \($0.other))" })
                }
            }
        } else {
            guard let found = try embeddedConfig() else {
                throw FusionError.missingConfig(origin: source)
            }
            config = try FusionConfig.decode(json: found.text, origin: found.origin)
        }

        let inside = tensorNames.filter { $0.hasPrefix(prefix) }.sorted()
        let leftAside = tensorNames.filter { !$0.hasPrefix(prefix) }.sorted()
        if inside.isEmpty, let example = leftAside.first {
            let looksUnprefixed = Set(config.expectedWeights().map(\.key)).contains(example)
            throw FusionError.inWeightsFile(file: source, .noWeightsUnderPrefix(
                prefix: prefix, tensorCount: leftAside.count, example: example, looksUnprefixed: looksUnprefixed))
        }
        // Model key → the tensor's name in the file, prefix included (what errors show).
        var fileName: [String: String] = [:]
        do {
            let stripped = inside.map { String($0.dropFirst(prefix.count)) }
            let renamed = try WeightRename.map(stripped, with: renames, shownAs: { prefix + $0 })
            var arrays: [String: NpyArray] = [:]
            for name in stripped {
                let key = renamed.modelKey[name]!
                arrays[key] = try array(prefix + name)
                fileName[key] = prefix + name
            }
            try WeightStore.check(config: config, shapes: arrays.mapValues(\.shape))

            var fingerprint = FNV1a64()
            var tensors: [String: Tensor] = [:]
            for key in arrays.keys.sorted() {
                let member = arrays[key]!
                guard member.dtype.isFloatingPoint else {
                    throw FusionError.unreadableWeight(
                        key: key, detail: "expected a float16, float32 or float64 array, found \(member.dtype)")
                }
                let tensor = try Tensor(member)
                if !allowNonfinite, let bad = tensor.firstNonFiniteIndex {
                    let value = tensor.withUnsafeBufferPointer { $0[bad] }
                    throw FusionError.nonFiniteWeight(
                        key: key, index: unravel(bad, shape: tensor.shape),
                        value: value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
                }
                tensors[key] = tensor
                let crc = try checksum?(fileName[key] ?? prefix + key) ?? member.contentChecksum()
                fingerprint.add("\(key) \(member.dtype) \(shapeText(member.shape)) \(String(crc, radix: 16))\n")
            }
            var loaded = LoadedWeights(
                model: try FusionModel(config: config, tensors: tensors), leftAside: leftAside, prefix: prefix,
                source: source, fingerprint: fingerprint.hex)
            loaded.renamed = fileName.filter { $0.value != prefix + $0.key }.map { (file: $0.value, key: $0.key) }
                .sorted { $0.file < $1.file }
            return loaded
        } catch let error as FusionError {
            throw error.inWeightsFile(source, prefix: prefix, config: config, fileName: { fileName[$0] ?? prefix + $0 })
        }
    }
}

extension FusionError {
    /// A weight error wrapped in ``inWeightsFile(file:_:)``, with its key written as the file names
    /// it (`fileName(key)`: prefix included, the name before any rename rule); an unexpected key's
    /// hint about a leftover prefix is given relative to that name. Configuration errors (which name
    /// their own origin) are returned unchanged.
    func inWeightsFile(
        _ source: String, prefix: String, config: FusionConfig, fileName: (String) -> String
    ) -> FusionError {
        func reason(_ key: String, _ reason: String) -> String {
            let generic = reason.hasPrefix("not a tensor of the fusion model")
            return generic && fileName(key) != key ? config.reasonUnexpected(fileName(key)) : reason
        }
        switch self {
        case let .missingWeight(key, expectedShape, rule):
            return .inWeightsFile(file: source, .missingWeight(key: prefix + key, expectedShape: expectedShape, rule: rule))
        case let .weightShape(key, expected, found, rule):
            return .inWeightsFile(file: source, .weightShape(key: fileName(key), expected: expected, found: found, rule: rule))
        case let .unexpectedWeight(key, why):
            return .inWeightsFile(file: source, .unexpectedWeight(key: fileName(key), reason: reason(key, why)))
        case let .unreadableWeight(key, detail):
            return .inWeightsFile(file: source, .unreadableWeight(key: fileName(key), detail: detail))
        case let .nonFiniteWeight(key, index, value):
            return .inWeightsFile(file: source, .nonFiniteWeight(key: fileName(key), index: index, value: value))
        case .invalidRename:
            return .inWeightsFile(file: source, self)
        case var .weightNames(mismatch):
            var rules: [WeightRename] = []
            for index in mismatch.unexpected.indices {
                let key = mismatch.unexpected[index].key
                let name = fileName(key)
                mismatch.unexpected[index].key = name
                mismatch.unexpected[index].renamed = name == prefix + key ? nil : key
                mismatch.unexpected[index].reason = reason(key, mismatch.unexpected[index].reason)
                if let target = mismatch.unexpected[index].looksLike {
                    rules.append(Self.renameRule(from: String(name.dropFirst(prefix.count)), to: target))
                }
            }
            for index in mismatch.missing.indices {
                let spec = mismatch.missing[index]
                mismatch.missing[index] = WeightSpec(key: prefix + spec.key, shape: spec.shape, rule: spec.rule)
            }
            for index in mismatch.wrongShapes.indices {
                mismatch.wrongShapes[index].key = fileName(mismatch.wrongShapes[index].key)
            }
            // One rule per module: each distinct rule once, and none whose old side two rules disagree on.
            var targets: [String: Set<String>] = [:]
            for rule in rules { targets[rule.old, default: []].insert(rule.new) }
            mismatch.suggestedRenames = rules.filter { targets[$0.old]!.count == 1 }.map(\.description)
                .reduce(into: []) { kept, rule in if !kept.contains(rule) { kept.append(rule) } }
            return .inWeightsFile(file: source, .weightNames(mismatch))
        default:
            return self
        }
    }

    /// The rename rule that maps `name` onto `key` by their differing starts: the common trailing
    /// name parts are kept (`img_proj.weight` → `vision_proj.proj.weight` gives
    /// `img_proj.=vision_proj.proj.`); names with no common last part give `name=key`.
    static func renameRule(from name: String, to key: String) -> WeightRename {
        var a = name.split(separator: ".", omittingEmptySubsequences: false)
        var b = key.split(separator: ".", omittingEmptySubsequences: false)
        var tail = 0
        while a.count > 1, b.count > 1, a.last == b.last {
            a.removeLast()
            b.removeLast()
            tail += 1
        }
        guard tail > 0 else { return WeightRename(old: name, new: key) }
        return WeightRename(old: a.joined(separator: ".") + ".", new: b.joined(separator: ".") + ".")
    }
}
