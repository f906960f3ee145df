import Foundation
import NpyIO
import Testing

/// `fuse --manifest JOBS --stack OUT.npz`: ragged episodes gathered into one file with an index,
/// resumable, equal to the jobs run one by one.
@Suite struct StackedOutputCommandTests {
    /// Three episodes of 4, 2 and 3 frames (one file each) and their manifest without 'out'.
    func episodes(_ w: TinyWorkspace) throws -> (manifest: String, lengths: [Int]) {
        let text = try NpyFile.read(path: w.folder.path("text.npy")).float32Elements()
        let images = try NpyFile.read(path: w.folder.path("images.npy")).float32Elements()
        let lengths = [4, 2, 3]
        var lines = ""
        for (b, length) in lengths.enumerated() {
            try w.save("t\(b).npy", Array(text[(b * 12)..<((b + 1) * 12)]), [2, 6])
            try w.save("i\(b).npy", Array(images[(b * 20)..<(b * 20 + length * 5)]), [length, 5])
            lines += #"{"text": "t\#(b).npy", "images": "i\#(b).npy"}"# + "\n"
        }
        try Data(lines.utf8).write(to: w.folder.url.appendingPathComponent("jobs.jsonl"))
        return (w.folder.path("jobs.jsonl"), lengths)
    }

    func run(_ w: TinyWorkspace, _ extra: [String]) throws -> CommandOutcome {
        try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("jobs.jsonl"),
                         "--one-sample", "--stack", w.folder.path("all.npz")] + extra)
    }

    @Test func raggedPerStepEpisodesGatherIntoOneFileWithOffsets() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let (_, lengths) = try episodes(w)
        let first = try run(w, ["--per-step"])
        try #require(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.hasPrefix("fusectl fuse: 3 done, 0 skipped, 0 failed of 3 jobs (3 samples in "))
        #expect(first.stderr.hasSuffix(")\nfusectl fuse: gathered 3 jobs, 3 samples, 9 rows into \(w.folder.path("all.npz"))\n"))
        let archive = try NpzArchive(path: w.folder.path("all.npz"))
        #expect(archive.memberNames == ["fused", "job_offsets", "sample_offsets", "sample_job", "job_line"])
        let fused = try archive.array(named: "fused")
        #expect(fused.shape == [9, 8])
        #expect(try archive.array(named: "job_offsets").intElements() == [0, 4, 6, 9])
        #expect(try archive.array(named: "sample_offsets").intElements() == [0, 4, 6, 9])
        #expect(try archive.array(named: "sample_job").intElements() == [0, 1, 2])
        #expect(try archive.array(named: "job_line").intElements() == [1, 2, 3])
        // Each episode alone: its rows, in order, and nothing of the padding.
        var expected: [Float] = []
        for (b, length) in lengths.enumerated() {
            let alone = try w.fuse(["text": "t\(b).npy", "images": "i\(b).npy"], extra: ["--one-sample", "--per-step"])
            try #require(alone.status == 0, "\(alone.stderr)")
            let rows = try NpyFile.read(path: w.folder.path("out.npy"))
            #expect(rows.shape == [1, length, 8])
            expected += try rows.float32Elements()
        }
        #expect(try fused.float32Elements() == expected)

        // Resumed: every part is skipped and the same bytes are gathered again.
        let bytes = try Data(contentsOf: w.folder.url.appendingPathComponent("all.npz"))
        let again = try run(w, ["--per-step"])
        try #require(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.hasPrefix("fusectl fuse: 0 done, 3 skipped, 0 failed of 3 jobs"))
        #expect(try Data(contentsOf: w.folder.url.appendingPathComponent("all.npz")) == bytes)
    }

    @Test func shardsGatherOnceEveryPartExistsAndPlainModeKeepsOneRowPerSample() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        _ = try episodes(w)
        let shard0 = try run(w, ["--shard", "0/2"])
        try #require(shard0.status == 0, "\(shard0.stderr)")
        #expect(shard0.stderr.hasSuffix("fusectl fuse: \(w.folder.path("all.npz")) not written yet: 1 of 3 jobs' parts are still to be made (other shards); the run that finishes the last one writes it\n"))
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("all.npz")))
        let shard1 = try run(w, ["--shard", "1/2"])
        try #require(shard1.status == 0, "\(shard1.stderr)")
        let fused = try NpzArchive(path: w.folder.path("all.npz")).array(named: "fused")
        #expect(fused.shape == [3, 1, 8])
        var expected: [Float] = []
        for b in 0..<3 {
            let alone = try w.fuse(["text": "t\(b).npy", "images": "i\(b).npy"], extra: ["--one-sample"])
            try #require(alone.status == 0, "\(alone.stderr)")
            expected += try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        }
        #expect(try fused.float32Elements() == expected)
    }

    @Test func aManifestNamingOutputsOrANonArchiveIsRefused() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("t.npy", [Float](repeating: 0.5, count: 12), [2, 6])
        try Data(#"{"text": "t.npy", "images": "images.npy", "out": "o.npy"}"#.utf8).write(to: w.folder.url.appendingPathComponent("jobs.jsonl"))
        let named = try run(w, [])
        #expect(named.status == 1)
        #expect(named.stderr.hasPrefix("fusectl fuse: error: \(w.folder.path("jobs.jsonl")):1: 'out' is given, but --stack gathers every job's output into one file; drop the column\n"))
        let npy = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("jobs.jsonl"),
                                   "--stack", w.folder.path("all.npy")])
        #expect(npy.status == 64)
        #expect(npy.stderr.hasPrefix("Error: --stack \(w.folder.path("all.npy")): the gathered output is an archive of several arrays; name a .npz file\n"))
    }
}
