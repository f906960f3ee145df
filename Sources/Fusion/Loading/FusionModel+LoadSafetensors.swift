import NpyIO

extension FusionModel {
    /// Loads and checks a weights `.safetensors` file (the same state_dict as a weights .npz, docs/model.md,
    /// "The weights file"), with the same rules and errors as ``loadWeights(from:prefix:configJSON:configOrigin:allowNonfinite:)``
    /// for an archive.
    ///
    /// - Parameters:
    ///   - file: the opened file; tensors may be F32, F16, BF16 or F64. F32 tensors at 4-byte aligned
    ///     addresses (all of them in files `safetensors` writes: it pads the header to 8 bytes) are read
    ///     in place from the file's map (the model keeps it alive); the others are converted to
    ///     float32 once (BF16 when the file is opened, F16/F64 and unaligned F32 when loaded).
    ///   - prefix: the model's key prefix; tensors outside it are left aside.
    ///   - configJSON: configuration JSON that replaces the header's `__metadata__["config"]` (which may
    ///     then be absent). Without it, the configuration is `__metadata__["config"]` or
    ///     `__metadata__[prefix + "config"]` (two that differ are an error).
    ///   - configOrigin: names `configJSON` in error messages.
    ///   - allowNonfinite: let NaN and ±Inf weights through instead of failing.
    /// - Throws: as the archive loader; the configuration's errors name `FILE:__metadata__.config`.
    public static func loadWeights(
        from file: SafetensorsFile, prefix: String?, renames: [WeightRename] = [], configJSON: String?,
        configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> LoadedWeights {
        let configNames = Set(["config", (prefix ?? "") + "config"])
        return try loadWeights(
            tensorNames: file.tensorNames, array: { try file.array(named: $0) },
            checksum: { try file.checksum(ofTensor: $0) }, source: file.file, prefix: prefix,
            renames: renames, configJSON: configJSON, configOrigin: configOrigin, allowNonfinite: allowNonfinite,
            embeddedConfig: {
                var found: (name: String, text: String)?
                for name in configNames.sorted() {
                    guard let text = file.metadata[name] else { continue }
                    if let found, found.text != text {
                        throw FusionError.inWeightsFile(file: file.file, .unexpectedWeight(
                            key: "__metadata__.\(name)", reason: "a second configuration entry that differs from \"__metadata__.\(found.name)\""))
                    }
                    found = (name, text)
                }
                return found.map { ($0.text, "\(file.file):__metadata__.\($0.name)") }
            })
    }
}
