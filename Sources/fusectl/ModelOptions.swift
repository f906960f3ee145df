import ArgumentParser
import Foundation
import Fusion
import FusionJobs
import NpyIO
#if canImport(Glibc)
import Glibc
#endif

/// Where the model comes from: `--weights`, `--prefix`, `--config`.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The weights: a .npz of the model's state_dict plus a 'config' member, or a .safetensors file (configuration in its metadata or --config). See docs/model.md.",
        valueName: "file"))
    var weights: String

    @Option(help: ArgumentHelp(
        "The model's key prefix in a checkpoint saved from a larger model (e.g. 'policy.fusion.'): it is stripped, and tensors outside it (e.g. 'policy.head.*', 'value.*') are left aside.",
        valueName: "prefix"))
    var prefix: String?

    @Option(help: ArgumentHelp(
        "A JSON file with the model configuration, for weights without their own (a .npz without a 'config' member, a .safetensors file without the metadata entry 'config'). Given for weights that carry one, it must agree with it: keys that differ are an error.",
        valueName: "file"))
    var config: String?

    @Option(name: .customLong("rename"), help: ArgumentHelp(
        "Rename the file's tensors onto the model's names: OLD=NEW replaces a name's start OLD (after --prefix is stripped) by NEW, e.g. 'img_proj.=vision_proj.proj.'. Repeat for several; the longest matching OLD applies. A rule that matches no tensor is an error.",
        valueName: "old=new"))
    var renames: [String] = []

    func validate() throws {
        for rule in renames {
            do {
                _ = try WeightRename(parsing: rule)
            } catch {
                throw ValidationError("--rename \(rule): expected OLD_PREFIX=NEW_PREFIX (e.g. img_proj.=vision_proj.proj.)")
            }
        }
    }

    /// The parsed `--rename` rules.
    var renameRules: [WeightRename] {
        get throws { try renames.map { try WeightRename(parsing: $0) } }
    }

    /// Opens the weights and checks every tensor against the configuration.
    /// - Parameters:
    ///   - allowNonfinite: let NaN and ±Inf weights through instead of failing.
    ///   - explain: print on standard error how many tensors were used and how many left aside.
    func loadModel(allowNonfinite: Bool = false, explain: Bool = false) throws -> FusionModel {
        try loadWeights(allowNonfinite: allowNonfinite, explain: explain).model
    }

    /// The model with what loading it found (fingerprint, tensors left aside); see `loadModel`.
    func loadWeights(allowNonfinite: Bool = false, explain: Bool = false) throws -> LoadedWeights {
        let loaded = try loadWeightsFile(
            path: weights, prefix: prefix, renames: try renameRules, configPath: config, allowNonfinite: allowNonfinite)
        if explain { printError(loaded.summary) }
        return loaded
    }

    /// The run's model files as inputs no output may replace.
    var inputFiles: [RunFile] {
        [RunFile(label: "--weights", path: weights)] + (config.map { [RunFile(label: "--config", path: $0)] } ?? [])
    }
}

/// Opens a weights file (.npz or .safetensors) and checks every tensor against the configuration
/// (`configPath`'s JSON when given, else the file's own).
func loadWeightsFile(
    path: String, prefix: String?, renames: [WeightRename], configPath: String?, allowNonfinite: Bool = false
) throws -> LoadedWeights {
    let configJSON = try configPath.map { try readText(path: $0) }
    return try FusionModel.load(
        path: path, prefix: prefix, renames: renames, configJSON: configJSON,
        configOrigin: configPath == "-" ? "<stdin>" : configPath ?? "", allowNonfinite: allowNonfinite)
}

/// Reads a whole text file ('-' for standard input; pipes and process substitutions too) as UTF-8.
/// - Throws: `TextFileError` naming the path: it does not exist or cannot be opened (the system's
///   reason), it is a folder, or it is not UTF-8.
func readText(path: String) throws -> String {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TextFileError(path: path, reason: "cannot be opened: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        if fstat(descriptor, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw TextFileError(path: path, reason: "is a folder, not a file")
        }
        data = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true).readDataToEndOfFile()
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw TextFileError(path: path, reason: "is not valid UTF-8")
    }
    return text
}

struct TextFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(path == "-" ? "<stdin>" : path): \(reason)" }
}
