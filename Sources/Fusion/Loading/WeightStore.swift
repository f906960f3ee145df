/// A checked set of weights: exactly the tensors the weights table of docs/model.md names for a configuration,
/// each with the shape that configuration implies.
///
/// Built from plain float32 tensors whose keys have already had any checkpoint prefix
/// stripped (see `FusionModel.load(from:prefix:configJSON:)` for reading an archive).
public struct WeightStore: Sendable, Equatable {
    /// The configuration the tensors were checked against.
    public let config: FusionConfig
    /// The tensors by key, exactly ``FusionConfig/expectedWeights()``'s keys.
    public let tensors: [String: Tensor]

    /// Checks `tensors` against `config`.
    ///
    /// Order of checks: the configuration itself (``FusionConfig/validate()``); then every key not in
    /// the table, in sorted order; then the table in state_dict order, each key present and of its shape.
    /// - Throws: ``FusionError/invalidConfigValue(origin:key:expected:found:)``,
    ///   ``FusionError/unexpectedWeight(key:reason:)``, ``FusionError/missingWeight(key:expectedShape:rule:)``,
    ///   ``FusionError/weightShape(key:expected:found:rule:)`` — the first problem found.
    public init(config: FusionConfig, tensors: [String: Tensor]) throws {
        try Self.check(config: config, shapes: tensors.mapValues(\.shape))
        self.config = config
        self.tensors = tensors
    }

    /// The checks of ``init(config:tensors:)`` on keys and shapes alone, so that a loader can reject a
    /// file before reading any tensor data.
    ///
    /// One problem is thrown as itself; so is the first of several that one cause explains (every
    /// unexpected key excluded by the same configuration value, or all of them under one leftover
    /// prefix), and the first wrong shape when every key is there (a configuration contradicting the
    /// file). Any other mix is one ``FusionError/weightNames(_:)`` listing every unexpected key,
    /// every missing key and every wrong shape, with shape-based suggestions.
    /// - Throws: as ``init(config:tensors:)``, or ``FusionError/weightNames(_:)``.
    public static func check(config: FusionConfig, shapes: [String: [Int]]) throws {
        try config.validate()
        let specs = config.expectedWeights()
        let expectedKeys = Set(specs.map(\.key))
        let unexpected = shapes.keys.sorted().filter { !expectedKeys.contains($0) }.map { key in
            WeightNameMismatch.Unexpected(key: key, shape: shapes[key]!, reason: config.reasonUnexpected(key))
        }
        let missing = specs.filter { shapes[$0.key] == nil }
        let wrongShapes = specs.compactMap { spec -> WeightNameMismatch.WrongShape? in
            guard let shape = shapes[spec.key], shape != spec.shape else { return nil }
            return .init(key: spec.key, expected: spec.shape, found: shape, rule: spec.rule)
        }
        let single: FusionError? = {
            if let first = unexpected.first {
                let explained = missing.isEmpty && wrongShapes.isEmpty
                    && Set(unexpected.map(\.reason)).count == 1 && !first.reason.hasPrefix("not a tensor")
                if unexpected.count + missing.count + wrongShapes.count == 1 || explained {
                    return .unexpectedWeight(key: first.key, reason: first.reason)
                }
                // The model's keys under one prefix that was not stripped: that prefix is the one thing to fix.
                let underPrefix = unexpected.filter { config.leftoverPrefix($0.key) != nil }
                if let hinted = underPrefix.first,
                   Set(underPrefix.map { config.leftoverPrefix($0.key)!.prefix }).count == 1 {
                    return .unexpectedWeight(key: hinted.key, reason: hinted.reason)
                }
                return nil
            }
            if let first = missing.first {
                return missing.count + wrongShapes.count == 1
                    ? .missingWeight(key: first.key, expectedShape: first.shape, rule: first.rule) : nil
            }
            return wrongShapes.first.map { .weightShape(key: $0.key, expected: $0.expected, found: $0.found, rule: $0.rule) }
        }()
        if let single { throw single }
        if unexpected.isEmpty && missing.isEmpty && wrongShapes.isEmpty { return }
        var mismatch = WeightNameMismatch(unexpected: unexpected, missing: missing, wrongShapes: wrongShapes)
        mismatch.suggest()
        throw FusionError.weightNames(mismatch)
    }

    /// The tensor stored under `key`.
    /// - Precondition: `key` is one of the configuration's expected keys (traps naming it otherwise).
    public subscript(key: String) -> Tensor {
        guard let tensor = tensors[key] else {
            preconditionFailure("WeightStore: no tensor \"\(key)\" in a store for \(config.jsonString())")
        }
        return tensor
    }
}
