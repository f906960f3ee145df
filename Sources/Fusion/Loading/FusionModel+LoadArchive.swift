import NpyIO

extension FusionModel {
    /// Loads and checks a weights `.npz` (a PyTorch state_dict plus the `config` member, docs/model.md,
    /// "The weights file") and returns the model alone; see ``loadWeights(from:prefix:configJSON:configOrigin:allowNonfinite:)``.
    public static func load(
        from archive: NpzArchive, prefix: String?, renames: [WeightRename] = [], configJSON: String?,
        configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> FusionModel {
        try loadWeights(
            from: archive, prefix: prefix, renames: renames, configJSON: configJSON, configOrigin: configOrigin,
            allowNonfinite: allowNonfinite
        ).model
    }

    /// Loads and checks a weights `.npz` (a PyTorch state_dict plus the `config` member, docs/model.md, "The weights file").
    ///
    /// - Parameters:
    ///   - archive: the opened archive; tensors may be float16, float32 or float64. Aligned little-endian
    ///     float32 members are read in place from the archive's map (the model keeps it alive), the
    ///     others converted to float32 once.
    ///   - prefix: the model's key prefix (`policy.fusion.`); nil or "" for none. Members outside it are
    ///     left aside (``LoadedWeights/leftAside``). The configuration member may be `config` or
    ///     `prefix + "config"`.
    ///   - configJSON: configuration JSON that replaces the `config` member (which may then be absent).
    ///   - configOrigin: names `configJSON` in error messages (e.g. the `--config` file's path).
    ///   - allowNonfinite: let NaN and ±Inf weights through instead of failing.
    /// - Throws: ``FusionError/pytorchCheckpoint(file:member:)`` for a zip that `torch.save` wrote (it
    ///   holds a `data.pkl` member); otherwise as
    ///   ``loadWeights(memberNames:array:source:prefix:configJSON:configOrigin:allowNonfinite:)``, with the
    ///   archive's file named as the source.
    public static func loadWeights(
        from archive: NpzArchive, prefix: String?, renames: [WeightRename] = [], configJSON: String?,
        configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> LoadedWeights {
        if let pickle = archive.memberNames.first(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) {
            throw FusionError.pytorchCheckpoint(file: archive.file, member: pickle)
        }
        return try loadWeights(
            memberNames: archive.memberNames, array: { try archive.array(named: $0) },
            checksum: { archive.checksum(ofMember: $0) ?? 0 }, source: archive.file,
            prefix: prefix, renames: renames, configJSON: configJSON, configOrigin: configOrigin, allowNonfinite: allowNonfinite)
    }
}
