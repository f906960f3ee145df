import Foundation
import NpyIO
import TestSupport
import Testing

/// Hostile configuration sizes through every door (`init --config`, `fuse --config`, the weights
/// file's `config` member): a clean error naming the key, quickly, before any large allocation.
@Suite struct HostileConfigCommandTests {
    static let cases: [(json: String, message: String)] = [
        (#"{"n_blocks": 1000000000000}"#, "configuration key \"n_blocks\": expected an integer from 1 to 4096, found 1000000000000"),
        (#"{"proj_dim": 9223372036854775807}"#, "configuration key \"proj_dim\": expected an integer from 1 to 1048576, found 9223372036854775807"),
        (#"{"ffn_dim": 1099511627776}"#, "configuration key \"ffn_dim\": expected an integer from 1 to 1048576, found 1099511627776"),
        (#"{"n_heads": 9223372036854775807}"#, "configuration key \"n_heads\": expected an integer from 1 to proj_dim = 768, found 9223372036854775807"),
    ]

    /// Runs `arguments` in `folder` and expects status 1, exactly `message` on stderr, within 10 s and
    /// (outside sanitized builds) a peak RSS under 100 MB: nothing was allocated on the word of the sizes.
    func expectRefused(_ arguments: [String], _ message: String, in folder: TemporaryFolder,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let start = Date()
        let outcome = try FaultProcess.run(arguments, folder: folder, measureMemory: true)
        #expect(outcome.exitStatus == 1, "\(outcome.summary): \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr == message + "\n", sourceLocation: sourceLocation)
        #expect(Date().timeIntervalSince(start) < 10, sourceLocation: sourceLocation)
        if !sanitizedBuild {
            #expect(outcome.peakRSSKiB < 100 * 1024, "peak RSS \(outcome.peakRSSKiB) KiB", sourceLocation: sourceLocation)
        }
    }

    @Test func initRefusesHostileSizes() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        for (json, message) in Self.cases {
            let path = w.folder.path("hostile.json")
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            try expectRefused(["init", "--config", path, "--out", w.folder.path("new.npz")],
                              "fusectl init: error: \(path): \(message)", in: w.folder)
            #expect(!FileManager.default.fileExists(atPath: w.folder.path("new.npz")))
        }
    }

    @Test func initRefusesAModelLargerThanMemory() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let path = w.folder.path("wide.json")
        try Data(#"{"proj_dim": 1048576, "ffn_dim": 1048576}"#.utf8).write(to: URL(fileURLWithPath: path))
        let outcome = try FaultProcess.run(["init", "--config", path, "--out", w.folder.path("new.npz")], folder: w.folder, measureMemory: true)
        #expect(outcome.exitStatus == 1)
        if !sanitizedBuild { #expect(outcome.peakRSSKiB < 100 * 1024, "peak RSS \(outcome.peakRSSKiB) KiB") }
        #expect(outcome.stderr.hasPrefix("fusectl init: error: \(path): the configuration is too large: n_blocks = 4, proj_dim = 1048576, ffn_dim = 1048576, img_latent_dim = 2048, txt_latent_dim = 768 make 26391273799680 weights, 211130190397440 bytes; at most "), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("new.npz")))
    }

    @Test func fuseRefusesHostileSizesFromConfigAndFromTheMember() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let weights = try NpzArchive(path: w.folder.path("w.npz"))
        for (json, message) in Self.cases {
            let path = w.folder.path("hostile.json")
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            try expectRefused(["fuse", "--weights", w.folder.path("w.npz"), "--config", path, "--text", w.folder.path("text.npy"),
                               "--images", w.folder.path("images.npy"), "--out", w.folder.path("out.npy")],
                              "fusectl fuse: error: \(path): \(message)", in: w.folder)
            var writer = NpzWriter(compression: .stored, alignment: 64)
            for member in weights.memberNames where member != "config" {
                writer.add(member, try weights.array(named: member))
            }
            writer.add("config", NpyArray(string: json))
            try writer.write(to: w.folder.path("hostile.npz"))
            try expectRefused(["fuse", "--weights", w.folder.path("hostile.npz"), "--text", w.folder.path("text.npy"),
                               "--images", w.folder.path("images.npy"), "--out", w.folder.path("out.npy")],
                              "fusectl fuse: error: \(w.folder.path("hostile.npz")):config: \(message)", in: w.folder)
            #expect(!w.outputExists)
        }
    }
}
