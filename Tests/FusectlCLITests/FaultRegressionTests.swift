import Foundation
import TestSupport
import NpyIO
import Testing

/// Every input under fixtures/regressions/ (fuzz findings and hostile files, see its README) through the
/// built binary: status 0 or 1, never a signal or a hang, and on 1 a single `fusectl CMD: error:` line
/// naming the file (weights errors name the weights file and the key). A file is accepted (status 0)
/// only if numpy itself reads it as valid: python3 with numpy reads every .npy/.npz file here
/// (`numpyVerdicts`), and today numpy rejects all five (a CRC mismatch, a shape past the data, an
/// overflowing shape), so each must end with status 1.
@Suite struct FaultRegressionTests {
    static let folder = fixturesURL().appendingPathComponent("regressions")
    /// The fuzz model's configuration (scripts/fuzz/targets/FuzzModel.swift) and weights.
    static let fuzzConfig = #"{"txt_latent_dim": 3, "img_latent_dim": 2, "proj_dim": 4, "n_heads": 2, "n_blocks": 1, "ffn_dim": 5, "final_norm": true}"#
    static let fuzzWeights = fixturesURL().appendingPathComponent("fuzz/weights/stored_f32.npz").path

    static func inputs(_ target: String) -> [String] {
        let dir = folder.appendingPathComponent(target)
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted().map { dir.appendingPathComponent($0).path }
    }

    /// numpy's reading of every file under fixtures/regressions, by path: nil when valid, else why not.
    /// `.npy` files are opened with `mmap_mode='r'` (header and size checked without allocating the
    /// claimed data); every member of a `.npz` is read (sizes and CRC-32 checked).
    static let numpyVerdicts: [String: String?]? = {
        guard PythonNumpy.isAvailable else { return nil }
        let script = """
            import sys, numpy as np
            for f in sys.argv[1:]:
                try:
                    r = np.load(f, mmap_mode='r', allow_pickle=False)
                    if isinstance(r, np.lib.npyio.NpzFile):
                        for k in r.files: r[k]
                    print('valid\\t' + f)
                except Exception as e:
                    print('invalid\\t' + f + '\\t' + type(e).__name__ + ': ' + ' '.join(str(e).split())[:160])
            """
        let files = ["npy", "npz", "weights", "inputs"].flatMap(inputs)
        guard let output = try? PythonNumpy.run(script, arguments: files) else { return nil }
        var verdicts: [String: String?] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
            if fields.count >= 2 { verdicts[fields[1]] = fields[0] == "valid" ? .some(nil) : .some(fields.count > 2 ? fields[2] : "?") }
        }
        return verdicts
    }()

    /// Expects status 0 only for a file numpy reads as valid.
    private func expectAcceptedOnlyIfNumpyReadsIt(_ outcome: FaultOutcome, file: String,
                                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        try PythonNumpy.require(sourceLocation: sourceLocation)
        let verdict = try #require(Self.numpyVerdicts?[file], "numpy gave no verdict on \(file)", sourceLocation: sourceLocation)
        if let reason = verdict {
            #expect(outcome.exitStatus == 1, "fusectl accepted \(file), which numpy rejects (\(reason))", sourceLocation: sourceLocation)
        }
    }

    private func expectCleanEnd(_ outcome: FaultOutcome, command: String, file: String, namesFile: Bool = true,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.signal == nil && !outcome.timedOut, "\(file): signal \(String(describing: outcome.signal)), timed out \(outcome.timedOut)",
                sourceLocation: sourceLocation)
        #expect(outcome.exitStatus == 0 || outcome.exitStatus == 1, "\(file): status \(String(describing: outcome.exitStatus))",
                sourceLocation: sourceLocation)
        if outcome.exitStatus == 1 {
            // One line; or the weights' one listing error: its header line, then one indented line per tensor.
            let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let oneError = lines.count == 1 || (lines.first?.hasSuffix(":") == true
                && lines.first?.contains("the tensors do not match the model's weights (") == true
                && lines.dropFirst().allSatisfy { $0.hasPrefix("  ") })
            #expect(outcome.stderr.hasPrefix("fusectl \(command): error: \(namesFile ? file : "")") && outcome.stderr.hasSuffix("\n") && oneError,
                    "\(outcome.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func theFolderHoldsEveryTarget() {
        for target in ["npy", "npz", "safetensors", "weights", "inputs"] {
            #expect(!Self.inputs(target).isEmpty, "fixtures/regressions/\(target) is empty")
        }
    }

    @Test(arguments: inputs("npy") + inputs("npz") + inputs("safetensors"))
    func inspect(_ file: String) throws {
        let scratch = try TemporaryFolder()
        defer { scratch.remove() }
        let outcome = try FaultProcess.run(["inspect", file], folder: scratch)
        expectCleanEnd(outcome, command: "inspect", file: file)
        if file.hasSuffix(".safetensors") {
            // Not numpy's format; every hostile header here is invalid by construction (see the README).
            #expect(outcome.exitStatus == 1, "fusectl accepted \(file), a malformed safetensors header")
        } else {
            try expectAcceptedOnlyIfNumpyReadsIt(outcome, file: file)
        }
    }

    @Test(arguments: inputs("weights"))
    func weights(_ file: String) throws {
        let scratch = try TemporaryFolder()
        defer { scratch.remove() }
        try Data(Self.fuzzConfig.utf8).write(to: scratch.url.appendingPathComponent("config.json"))
        try NpyFile.write(NpyArray(float32: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], shape: [2, 3]), to: scratch.path("text.npy"))
        try NpyFile.write(NpyArray(float32: [0.5, -0.5, 1, 0, 0.25, 0.75, -1, 2], shape: [2, 2, 2]), to: scratch.path("images.npy"))
        // with the fixed configuration (the config member unread) and with the file's own
        for configuration in [["--config", scratch.path("config.json")], []] {
            let outcome = try FaultProcess.run(
                ["fuse", "--weights", file] + configuration + ["--text", scratch.path("text.npy"),
                 "--images", scratch.path("images.npy"), "--out", scratch.path("out.npy")], folder: scratch)
            expectCleanEnd(outcome, command: "fuse", file: file)
            try expectAcceptedOnlyIfNumpyReadsIt(outcome, file: file)
            #expect(FileManager.default.fileExists(atPath: scratch.path("out.npy")) == (outcome.exitStatus == 0))
        }
    }

    @Test(arguments: inputs("inputs"))
    func batch(_ file: String) throws {
        let scratch = try TemporaryFolder()
        defer { scratch.remove() }
        let outcome = try FaultProcess.run(
            ["fuse", "--weights", Self.fuzzWeights, "--batch", file, "--out", scratch.path("out.npy")], folder: scratch)
        expectCleanEnd(outcome, command: "fuse", file: file)
        try expectAcceptedOnlyIfNumpyReadsIt(outcome, file: file)
        #expect(FileManager.default.fileExists(atPath: scratch.path("out.npy")) == (outcome.exitStatus == 0))
    }
}
