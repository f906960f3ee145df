import Foundation
import TestSupport
import NpyIO
import Testing

/// A tiny model made by `fusectl init` (txt 6, img 5, d 8) and a valid batch of 3 samples, T = 4.
struct TinyWorkspace {
    let folder: TemporaryFolder
    init() throws {
        folder = try TemporaryFolder()
        let config = #"{"txt_latent_dim": 6, "img_latent_dim": 5, "proj_dim": 8, "n_heads": 2, "n_blocks": 2, "ffn_dim": 16}"#
        try Data(config.utf8).write(to: folder.url.appendingPathComponent("config.json"))
        let made = try Fusectl.run(["init", "--config", folder.path("config.json"), "--seed", "3", "--out", folder.path("w.npz")])
        try #require(made.status == 0, "init failed: \(made.stderr)")
        try save("text.npy", (0..<(3 * 2 * 6)).map { Float($0 % 7) / 7 }, [3, 2, 6])
        try save("images.npy", (0..<(3 * 4 * 5)).map { Float($0 % 5) / 5 - 0.4 }, [3, 4, 5])
    }

    func save(_ name: String, _ values: [Float], _ shape: [Int]) throws {
        try NpyFile.write(NpyArray(float32: values, shape: shape), to: folder.path(name))
    }

    func saveInts(_ name: String, _ values: [Int64]) throws {
        try NpyFile.write(NpyArray(int64: values, shape: [values.count]), to: folder.path(name))
    }

    /// Runs `fuse` on w.npz with `inputs` (file names inside the folder) writing out.npy.
    func fuse(_ inputs: [String: String], extra: [String] = []) throws -> CommandOutcome {
        var arguments = ["fuse", "--weights", folder.path("w.npz"), "--out", folder.path("out.npy")]
        for (option, file) in inputs.sorted(by: { $0.key < $1.key }) {
            arguments += ["--\(option)", file == "-" ? "-" : folder.path(file)]
        }
        return try Fusectl.run(arguments + extra)
    }

    var outputExists: Bool { FileManager.default.fileExists(atPath: folder.path("out.npy")) }
}
