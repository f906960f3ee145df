import NpyIO

/// Where a model's tensors come from: a state_dict `.npz` or a `.safetensors` file, decided by the
/// file's magic bytes (not its name). The one loader, ``FusionModel/load(path:prefix:renames:configJSON:configOrigin:allowNonfinite:)``,
/// goes through it, so that neither the CLI nor the C interface switches on file kinds.
public enum WeightsSource {
    case npz(NpzArchive)
    case safetensors(SafetensorsFile)

    /// Opens `path` ("-" = all of standard input); regular files are memory-mapped.
    ///
    /// - Throws: `NpyError` naming the path when it cannot be read or parsed;
    ///   ``WeightsSourceError`` for a single `.npy` array.
    public init(path: String) throws {
        switch try openArrayFile(path: path) {
        case .npz(let archive): self = .npz(archive)
        case .safetensors(let file): self = .safetensors(file)
        case .npy:
            throw WeightsSourceError(
                file: path == "-" ? "<stdin>" : path,
                reason: "is a single .npy array; expected a weights .npz or .safetensors file")
        }
    }

    /// The file, as named in errors ("<stdin>" for standard input).
    public var file: String {
        switch self {
        case .npz(let archive): return archive.file
        case .safetensors(let file): return file.file
        }
    }

    /// Loads and checks the model with the format's own `FusionModel.loadWeights(from:…)` (archive or
    /// safetensors): the same rules, checks and errors for both.
    public func loadWeights(
        prefix: String?, renames: [WeightRename] = [], configJSON: String?, configOrigin: String = "configuration JSON",
        allowNonfinite: Bool = false
    ) throws -> LoadedWeights {
        switch self {
        case .npz(let archive):
            return try FusionModel.loadWeights(
                from: archive, prefix: prefix, renames: renames, configJSON: configJSON, configOrigin: configOrigin,
                allowNonfinite: allowNonfinite)
        case .safetensors(let file):
            return try FusionModel.loadWeights(
                from: file, prefix: prefix, renames: renames, configJSON: configJSON, configOrigin: configOrigin,
                allowNonfinite: allowNonfinite)
        }
    }
}

/// A path that holds arrays, but not a weights file (a single `.npy`).
public struct WeightsSourceError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}

extension FusionModel {
    /// Opens a weights file (`.npz` or `.safetensors`, by content) and loads and checks the model:
    /// the loader behind `fusectl`'s `--weights` and the C interface's `fusectl_model_open`.
    ///
    /// - Parameters:
    ///   - path: the weights file; "-" reads standard input.
    ///   - prefix: the model's key prefix (`policy.fusion.`); nil or "" for none.
    ///   - renames: rules that map the file's names onto the model's (``WeightRename``), applied after the prefix.
    ///   - configJSON: configuration JSON for a file without its own (`config` member or
    ///     `__metadata__["config"]`); beside the file's own it must agree with it.
    ///   - configOrigin: names `configJSON` in error messages (e.g. the `--config` file's path).
    ///   - allowNonfinite: let NaN and ±Inf weights through instead of failing.
    /// - Returns: the model with what was left aside (``LoadedWeights``).
    /// - Throws: as ``WeightsSource/init(path:)`` and ``WeightsSource/loadWeights(prefix:configJSON:configOrigin:allowNonfinite:)``.
    public static func load(
        path: String, prefix: String?, renames: [WeightRename] = [], configJSON: String?,
        configOrigin: String = "configuration JSON", allowNonfinite: Bool = false
    ) throws -> LoadedWeights {
        try WeightsSource(path: path).loadWeights(
            prefix: prefix, renames: renames, configJSON: configJSON, configOrigin: configOrigin,
            allowNonfinite: allowNonfinite)
    }
}
