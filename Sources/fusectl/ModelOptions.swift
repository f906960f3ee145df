import ArgumentParser
import Foundation
import Fusion
import NpyIO

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
        "A JSON file with the model configuration; it replaces the weights file's own (the .npz 'config' member or the .safetensors metadata entry 'config').",
        valueName: "file"))
    var config: String?

    /// Opens the weights and checks every tensor against the configuration.
    /// - Parameters:
    ///   - allowNonfinite: let NaN and ±Inf weights through instead of failing.
    ///   - explain: print on standard error how many tensors were used and how many left aside.
    func loadModel(allowNonfinite: Bool = false, explain: Bool = false) throws -> FusionModel {
        let configJSON = try config.map { try readText(path: $0) }
        let configOrigin = config == "-" ? "<stdin>" : config ?? ""
        let loaded = try FusionModel.load(
            path: weights, prefix: prefix, configJSON: configJSON, configOrigin: configOrigin,
            allowNonfinite: allowNonfinite)
        if explain { printError(loaded.summary) }
        return loaded.model
    }
}

/// Reads a whole text file ('-' for standard input) as UTF-8.
func readText(path: String) throws -> String {
    let data: Data
    do {
        data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile()
            : try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw TextFileError(path: path, reason: "cannot be read (\(error.localizedDescription))")
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
