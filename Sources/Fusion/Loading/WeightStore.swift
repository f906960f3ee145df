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
    /// - Throws: as ``init(config:tensors:)``.
    public static func check(config: FusionConfig, shapes: [String: [Int]]) throws {
        try config.validate()
        let specs = config.expectedWeights()
        let expectedKeys = Set(specs.map(\.key))
        for key in shapes.keys.sorted() where !expectedKeys.contains(key) {
            throw FusionError.unexpectedWeight(key: key, reason: config.reasonUnexpected(key))
        }
        for spec in specs {
            guard let shape = shapes[spec.key] else {
                throw FusionError.missingWeight(key: spec.key, expectedShape: spec.shape, rule: spec.rule)
            }
            if shape != spec.shape {
                throw FusionError.weightShape(key: spec.key, expected: spec.shape, found: shape, rule: spec.rule)
            }
        }
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
