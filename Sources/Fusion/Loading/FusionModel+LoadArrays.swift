import NpyIO

extension FusionModel {
    /// Loads and checks weights from named NumPy arrays — the members of a state_dict `.npz`
    /// (SPEC "Weights file"); ``load(from:prefix:configJSON:configOrigin:)`` calls this for an archive.
    ///
    /// - Parameters:
    ///   - memberNames: every member name (without `.npy`); `array(name)` reads one.
    ///   - source: names the archive in error messages (its path).
    ///   - prefix: stripped from every tensor key (e.g. `policy.fusion.`); nil or "" for none. Every
    ///     tensor key must start with it. The configuration member may be `config` or `prefix + "config"`.
    ///   - configJSON: configuration JSON that replaces the `config` member (which may then be absent).
    ///   - configOrigin: names `configJSON` in error messages (e.g. the `--config` file's path).
    /// - Returns: the model. Little-endian float32 members at 4-byte aligned addresses (every member
    ///   of an archive `fusectl init` writes) are read in place from the archive's memory map, which
    ///   the model keeps alive; other members (float16/float64, big-endian, Fortran order, unaligned,
    ///   as `np.savez` usually places them) are converted once to float32 (see `Tensor.init(_:)`).
    /// - Throws: ``FusionError/missingConfig(origin:)`` without any configuration; the configuration's
    ///   decoding errors (origin: the member's origin or `configOrigin`);
    ///   ``FusionError/unexpectedWeight(key:reason:)`` for a key without the prefix or a second,
    ///   different configuration member; every check of ``WeightStore/check(config:shapes:)``, on
    ///   shapes before any tensor data is read, naming keys as the archive's members (prefix included); ``FusionError/unreadableWeight(key:detail:)`` for a
    ///   member that is not a float array; `NpyError` from reading members.
    public static func load(
        memberNames: [String], array: (String) throws -> NpyArray, source: String, prefix: String?,
        configJSON: String?, configOrigin: String = "configuration JSON"
    ) throws -> FusionModel {
        let prefix = prefix ?? ""
        let configNames: Set<String> = ["config", prefix + "config"]
        let config: FusionConfig
        if let configJSON {
            config = try FusionConfig.decode(json: configJSON, origin: configOrigin)
        } else {
            var found: (name: String, text: String, origin: String)?
            for name in memberNames.sorted() where configNames.contains(name) {
                let member = try array(name)
                let text = try member.stringScalar()
                if let found, found.text != text {
                    throw FusionError.unexpectedWeight(
                        key: name, reason: "a second configuration member that differs from \"\(found.name)\"")
                }
                found = (name, text, "\(source):\(name)")
            }
            guard let found else {
                throw FusionError.missingConfig(origin: source)
            }
            config = try FusionConfig.decode(json: found.text, origin: found.origin)
        }

        var arrays: [String: NpyArray] = [:]
        for name in memberNames.sorted() where !configNames.contains(name) {
            guard name.hasPrefix(prefix) else {
                throw FusionError.unexpectedWeight(key: name, reason: "it does not start with the prefix \"\(prefix)\"")
            }
            arrays[String(name.dropFirst(prefix.count))] = try array(name)
        }
        do {
            try WeightStore.check(config: config, shapes: arrays.mapValues(\.shape))
        } catch let error as FusionError {
            throw error.namingMembers(prefix: prefix, config: config)
        }

        var tensors: [String: Tensor] = [:]
        for key in arrays.keys.sorted() {
            let member = arrays[key]!
            guard member.dtype.isFloatingPoint else {
                throw FusionError.unreadableWeight(
                    key: prefix + key, detail: "expected a float16, float32 or float64 array, found \(member.dtype)")
            }
            tensors[key] = try Tensor(member)
        }
        return try FusionModel(config: config, tensors: tensors)
    }
}

extension FusionError {
    /// The same error with weight keys written as archive member names (`prefix` + key); an
    /// unexpected key's hint about a leftover prefix is given relative to the member name.
    func namingMembers(prefix: String, config: FusionConfig) -> FusionError {
        guard !prefix.isEmpty else { return self }
        switch self {
        case let .missingWeight(key, expectedShape, rule):
            return .missingWeight(key: prefix + key, expectedShape: expectedShape, rule: rule)
        case let .weightShape(key, expected, found, rule):
            return .weightShape(key: prefix + key, expected: expected, found: found, rule: rule)
        case let .unexpectedWeight(key, reason):
            let generic = reason.hasPrefix("not a tensor of the SPEC model")
            return .unexpectedWeight(key: prefix + key, reason: generic ? config.reasonUnexpected(prefix + key) : reason)
        default:
            return self
        }
    }
}
