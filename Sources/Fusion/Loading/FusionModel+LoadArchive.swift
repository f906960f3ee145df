import NpyIO

extension FusionModel {
    /// Loads and checks a weights `.npz` (a PyTorch state_dict plus the `config` member, SPEC "Weights file").
    ///
    /// - Parameters:
    ///   - archive: the opened archive; tensors may be float16, float32 or float64. Aligned little-endian
    ///     float32 members are read in place from the archive's map (the model keeps it alive), the
    ///     others converted to float32 once (see ``load(memberNames:array:source:prefix:configJSON:configOrigin:)``).
    ///   - prefix: stripped from every tensor key (`policy.fusion.`); nil or "" for none. The configuration
    ///     member may be `config` or `prefix + "config"`.
    ///   - configJSON: configuration JSON that replaces the `config` member (which may then be absent).
    ///   - configOrigin: names `configJSON` in error messages (e.g. the `--config` file's path).
    /// - Throws: as ``load(memberNames:array:source:prefix:configJSON:configOrigin:)``, with the
    ///   archive's file named as the source.
    public static func load(
        from archive: NpzArchive, prefix: String?, configJSON: String?,
        configOrigin: String = "configuration JSON"
    ) throws -> FusionModel {
        try load(
            memberNames: archive.memberNames, array: { try archive.array(named: $0) }, source: archive.file,
            prefix: prefix, configJSON: configJSON, configOrigin: configOrigin)
    }
}
