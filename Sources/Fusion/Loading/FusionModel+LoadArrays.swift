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

    /// One line for a person: how many tensors were used and how many left aside, e.g.
    /// `weights w.npz: 27 tensors under the prefix "policy.fusion." used, 4 outside it left aside (policy.head.bias, …)`.
    public var summary: String {
        let used = model.config.expectedWeights().count
        guard !prefix.isEmpty else { return "weights \(source): \(used) tensors used" }
        var line = "weights \(source): \(used) tensors under the prefix \"\(prefix)\" used, \(leftAside.count) outside it left aside"
        if !leftAside.isEmpty {
            let shown = leftAside.prefix(3).joined(separator: ", ")
            line += " (\(shown)\(leftAside.count > 3 ? ", …" : ""))"
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
        configJSON: String?, configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> FusionModel {
        try loadWeights(
            memberNames: memberNames, array: array, source: source, prefix: prefix, configJSON: configJSON,
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
    ///   when a prefix matches no tensor; every check of ``WeightStore/check(config:shapes:)``, on
    ///   shapes before any tensor data is read, naming keys as the file's members (prefix included);
    ///   ``FusionError/unreadableWeight(key:detail:)`` for a member that is not a float array;
    ///   ``FusionError/nonFiniteWeight(key:index:value:)`` for the first NaN or ±Inf (unless allowed).
    ///   `NpyError` from reading members.
    public static func loadWeights(
        memberNames: [String], array: (String) throws -> NpyArray, checksum: ((String) throws -> UInt32)? = nil,
        source: String, prefix: String?,
        configJSON: String?, configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> LoadedWeights {
        let configNames: Set<String> = ["config", (prefix ?? "") + "config"]
        return try loadWeights(
            tensorNames: memberNames.filter { !configNames.contains($0) }, array: array,
            checksum: checksum, source: source,
            prefix: prefix, configJSON: configJSON, configOrigin: configOrigin, allowNonfinite: allowNonfinite,
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
        source: String, prefix: String?,
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
        do {
            var arrays: [String: NpyArray] = [:]
            for name in inside {
                arrays[String(name.dropFirst(prefix.count))] = try array(name)
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
                let crc = try checksum?(prefix + key) ?? member.contentChecksum()
                fingerprint.add("\(key) \(member.dtype) \(shapeText(member.shape)) \(String(crc, radix: 16))\n")
            }
            return LoadedWeights(
                model: try FusionModel(config: config, tensors: tensors), leftAside: leftAside, prefix: prefix,
                source: source, fingerprint: fingerprint.hex)
        } catch let error as FusionError {
            throw error.inWeightsFile(source, prefix: prefix, config: config)
        }
    }
}

extension FusionError {
    /// A weight error wrapped in ``inWeightsFile(file:_:)``, with its key written as the file names
    /// it (`prefix` + key); an unexpected key's hint about a leftover prefix is given relative to that
    /// name. Configuration errors (which name their own origin) are returned unchanged.
    func inWeightsFile(_ source: String, prefix: String, config: FusionConfig) -> FusionError {
        switch self {
        case let .missingWeight(key, expectedShape, rule):
            return .inWeightsFile(file: source, .missingWeight(key: prefix + key, expectedShape: expectedShape, rule: rule))
        case let .weightShape(key, expected, found, rule):
            return .inWeightsFile(file: source, .weightShape(key: prefix + key, expected: expected, found: found, rule: rule))
        case let .unexpectedWeight(key, reason):
            let generic = reason.hasPrefix("not a tensor of the fusion model")
            let reason = generic && !prefix.isEmpty ? config.reasonUnexpected(prefix + key) : reason
            return .inWeightsFile(file: source, .unexpectedWeight(key: prefix + key, reason: reason))
        case let .unreadableWeight(key, detail):
            return .inWeightsFile(file: source, .unreadableWeight(key: prefix + key, detail: detail))
        case let .nonFiniteWeight(key, index, value):
            return .inWeightsFile(file: source, .nonFiniteWeight(key: prefix + key, index: index, value: value))
        default:
            return self
        }
    }
}
