import Foundation
import NpyIO
import TestSupport
import Testing

/// Nothing silently lost: two outputs on one file are refused before any work; `.npz` outputs are
/// real archives.
@Suite struct OutputCollisionTests {
    private func fuse(_ w: TinyWorkspace, _ outputs: [String]) throws -> CommandOutcome {
        try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                         "--images", w.folder.path("images.npy")] + outputs, in: w.folder.url)
    }

    @Test(arguments: [
        (["--out", "f.npy", "--attention", "./f.npy"],
         "Error: --out and --attention name the same file (./f.npy); one would overwrite the other. Give different files, or one .npz to hold both."),
        (["--out", "f.npy", "--attention-png", "sub/../f.npy"],
         "Error: --out and --attention-png name the same file (sub/../f.npy); one would overwrite the other. Give different files."),
        (["--out", "f.npy", "--attention", "a.npy", "--attention-png", "link.npy"],
         "Error: --attention and --attention-png name the same file (link.npy); one would overwrite the other. Give different files."),
        (["--out", "f.npz", "--attention-png", "f.npz"],
         "Error: --out and --attention-png name the same file (f.npz); one would overwrite the other. Give different files."),
    ])
    func sameOutputTwiceIsAUsageError(_ outputs: [String], _ message: String) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try FileManager.default.createDirectory(atPath: w.folder.path("sub"), withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: w.folder.path("a.npy")))
        try FileManager.default.createSymbolicLink(atPath: w.folder.path("link.npy"), withDestinationPath: "a.npy")
        let outcome = try fuse(w, outputs)
        #expect(outcome.status == 64, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix(message + "\n"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("f.npy")))
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("f.npz")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.folder.path("a.npy"))) == Data("old".utf8))
    }

    @Test func npzOutputIsAnArchiveWithFusedAndAttention() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        #expect(try fuse(w, ["--out", "plain.npy", "--attention", "maps.npy"]).status == 0)
        let both = try fuse(w, ["--out", "both.npz", "--attention", "both.npz"])
        #expect(both.status == 0, "\(both.stderr)")
        let archive = try NpzArchive(path: w.folder.path("both.npz"))
        #expect(archive.memberNames == ["fused", "attention"])
        #expect(try archive.array(named: "fused").float32Elements()
                == NpyFile.read(path: w.folder.path("plain.npy")).float32Elements())
        #expect(try archive.array(named: "attention").float32Elements()
                == NpyFile.read(path: w.folder.path("maps.npy")).float32Elements())
        #expect(try fuse(w, ["--out", "alone.npz", "--attention", "maps.npz"]).status == 0)
        #expect(try NpzArchive(path: w.folder.path("alone.npz")).memberNames == ["fused"])
        #expect(try NpzArchive(path: w.folder.path("maps.npz")).memberNames == ["attention"])
    }

    /// numpy reads the archive (under CI=true a missing numpy fails the test instead of skipping it).
    @Test(.enabled(if: PythonNumpy.isAvailable || isContinuousIntegration,
                   "python3 with numpy is not available"))
    func numpyReadsTheNpzOutput() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        #expect(try fuse(w, ["--out", "both.npz", "--attention", "both.npz"]).status == 0)
        let numpy = try PythonNumpy.run(
            "import numpy, sys; z = numpy.load(sys.argv[1]); print(sorted(z.files), z['fused'].shape, z['attention'].shape)",
            arguments: [w.folder.path("both.npz")])
        #expect(numpy == "['attention', 'fused'] (3, 1, 8) (3, 2, 2, 4)\n")
    }

    @Test func manifestJobsWritingOneFileAreRefusedBeforeAnyJob() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = w.folder.path("jobs.tsv")
        try Data("""
            text\timages\tout\tattention
            text.npy\timages.npy\ta.npy
            text.npy\timages.npy\tb.npy\tc.npy
            text.npy\timages.npy\tsub/../a.npy
            text.npy\timages.npy\td.npy\td.npy
            text.npy\timages.npy\te.npz\te.npz
            text.npy\timages.npy\tf.npy\tc.npy

            """.utf8).write(to: URL(fileURLWithPath: manifest))
        try FileManager.default.createDirectory(atPath: w.folder.path("sub"), withIntermediateDirectories: true)
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == """
            fusectl fuse: error: \(manifest):4: 'out' \(w.folder.path("sub/../a.npy")) is also written by line 2 ('out'); each output needs its own file
            fusectl fuse: error: \(manifest):5: 'attention' \(w.folder.path("d.npy")) is also written by its 'out'; each output needs its own file
            fusectl fuse: error: \(manifest):7: 'attention' \(w.folder.path("c.npy")) is also written by line 3 ('attention'); each output needs its own file
            fusectl fuse: no job was run: 3 problems in the manifest

            """)
        let written = try FileManager.default.contentsOfDirectory(atPath: w.folder.path("")).filter {
            ["a.npy", "b.npy", "c.npy", "d.npy", "e.npz", "f.npy"].contains($0)
        }
        #expect(written.isEmpty, "\(written)")
    }
}
