import Foundation
import NpyIO
import Testing

/// `fuse --manifest` checks the whole manifest before any job, creates output folders and reads
/// `batch` bundles.
@Suite struct ManifestCheckTests {
    private func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func syntaxErrorsAreAllReportedAndNoJobRuns() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = w.folder.path("jobs.jsonl")
        try write("""
            {"text": "text.npy", "images": "images.npy", "out": "o1.npy"}
            {"text": "text.npy", "images": "images.npy", "out": "o2.npy"}
            {"text": "text.npy", "images": "images.npy", "out" "o3.npy"}
            text.npy\timages.npy\to4.npy
            {"text": "text.npy", "out": "o5.npy"}

            """, to: manifest)
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == """
            fusectl fuse: error: \(manifest):3: not a JSON object
            fusectl fuse: error: \(manifest):4: not a JSON object
            fusectl fuse: error: \(manifest):5: missing 'images' (or a 'batch' bundle)
            fusectl fuse: no job was run: 3 problems in the manifest

            """)
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("o1.npy")))

        let tsv = w.folder.path("jobs.tsv")
        try write("text\timages\tout\ntext.npy,images.npy,o1.npy\n", to: tsv)
        let csv = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", tsv])
        #expect(csv.status == 1)
        #expect(csv.stderr.hasPrefix(
            "fusectl fuse: error: \(tsv):2: expected tab-separated columns (text<TAB>images<TAB>out...), found a comma-separated line\n"))
    }

    @Test func outputFoldersAreCreatedAndBundlesRead() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var bundle = NpzWriter()
        bundle.add("text", try NpyFile.read(path: w.folder.path("text.npy")))
        bundle.add("images", try NpyFile.read(path: w.folder.path("images.npy")))
        try bundle.write(to: w.folder.path("batch.npz"))
        let manifest = w.folder.path("jobs.tsv")
        try write("""
            text\timages\tbatch\tout\tattention
            text.npy\timages.npy\t\tnew/deep/a.npy\tnew/maps/a.npy
            \t\tbatch.npz\tnew/deep/b.npz\tnew/deep/b.npz

            """, to: manifest)
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest, "--quiet"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let separate = try NpyFile.read(path: w.folder.path("new/deep/a.npy"))
        let archive = try NpzArchive(path: w.folder.path("new/deep/b.npz"))
        #expect(archive.memberNames == ["fused", "attention"])
        #expect(try archive.array(named: "fused").float32Elements() == separate.float32Elements())
        #expect(try archive.array(named: "attention").float32Elements()
                == NpyFile.read(path: w.folder.path("new/maps/a.npy")).float32Elements())
        let names = try FileManager.default.contentsOfDirectory(atPath: w.folder.path("new/deep")).sorted()
        #expect(names == ["a.npy", "a.npy.fusectl.json", "b.npz", "b.npz.fusectl.json"], "temporary files left: \(names)")
        // Complete .npz outputs are skipped on a second run.
        let again = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest])
        #expect(again.stderr.hasPrefix("fusectl fuse: 0 done, 2 skipped, 0 failed of 2 jobs ("), "\(again.stderr)")
    }
}
