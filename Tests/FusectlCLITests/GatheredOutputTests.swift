import Foundation
import NpyIO
import Testing
import TestSupport

/// `fuse --manifest JOBS --gather all.npz`: a ragged dataset's jobs in one archive with an index, each
/// row bit-identical to the job's own output file, resumable like every output.
@Suite struct GatheredOutputTests {
    /// Five jobs of 1–2 samples and 2–5 frames with ragged image lengths, as JOBS (no `out`) and as
    /// PERJOB (an `out` a job).
    private func makeJobs(_ w: TinyWorkspace) throws -> (gathered: String, perJob: String, lengths: [[Int]]) {
        var gathered = ["text\timages\timage_lengths"]
        var perJob = ["text\timages\timage_lengths\tout"]
        var lengths: [[Int]] = []
        for job in 0..<5 {
            let batch = 1 + job % 2
            let frames = 2 + job % 4
            try w.save("t\(job).npy", (0..<(batch * 2 * 6)).map { Float(($0 * 5 + job) % 9) / 9 - 0.4 }, [batch, 2, 6])
            try w.save("i\(job).npy", (0..<(batch * frames * 5)).map { Float(($0 * 3 + job) % 11) / 11 - 0.5 }, [batch, frames, 5])
            let jobLengths = (0..<batch).map { 1 + ($0 + job) % frames }
            lengths.append(jobLengths)
            try w.saveInts("l\(job).npy", jobLengths.map(Int64.init))
            gathered.append("t\(job).npy\ti\(job).npy\tl\(job).npy")
            perJob.append("t\(job).npy\ti\(job).npy\tl\(job).npy\tout/o\(job).npy")
        }
        let gatheredPath = w.folder.path("jobs.tsv")
        let perJobPath = w.folder.path("perjob.tsv")
        try Data((gathered.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: gatheredPath))
        try Data((perJob.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: perJobPath))
        return (gatheredPath, perJobPath, lengths)
    }

    @Test(arguments: [false, true])
    func rowsEqualEachJobsOwnFile(perStep: Bool) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let (jobs, perJob, lengths) = try makeJobs(w)
        let mode = perStep ? ["--per-step"] : []
        let separate = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", perJob, "--quiet"] + mode)
        try #require(separate.status == 0, "\(separate.stderr)")
        let run = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", jobs,
                                   "--gather", w.folder.path("all/all.npz")] + mode)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("fusectl fuse: 5 done, 0 skipped, 0 failed of 5 jobs (7 samples"))
        let archive = try NpzArchive(path: w.folder.path("all/all.npz"))
        #expect(archive.memberNames == ["fused", "job_index", "job_offsets"] + (perStep ? ["sample_offsets"] : []))
        let fused = try archive.array(named: "fused").float32Elements()
        #expect(try archive.array(named: "job_index").intElements() == [0, 1, 2, 3, 4])
        #expect(try archive.array(named: "job_offsets").intElements() == [0, 1, 3, 4, 6, 7])
        let d = 8
        // The expected rows: each job's file, its samples in order, per step only the valid rows.
        var expected: [Float] = []
        var sampleOffsets = [0]
        for job in 0..<5 {
            let own = try NpyFile.read(path: w.folder.path("out/o\(job).npy"))
            let values = try own.float32Elements()
            let steps = own.shape[1]
            for (sample, length) in lengths[job].enumerated() {
                let rows = perStep ? length : 1
                expected += values[(sample * steps * d)..<(sample * steps * d + rows * d)]
                sampleOffsets.append(sampleOffsets.last! + rows)
            }
        }
        #expect(try archive.array(named: "fused").shape == (perStep ? [sampleOffsets.last!, d] : [7, 1, d]))
        #expect(fused.map(\.bitPattern) == expected.map(\.bitPattern))
        if perStep { #expect(try archive.array(named: "sample_offsets").intElements() == sampleOffsets) }

        // Resumed: kept when current, recomputed whole when an input changed.
        let again = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", jobs,
                                     "--gather", w.folder.path("all/all.npz")] + mode)
        #expect(again.stderr.hasPrefix("fusectl fuse: 0 done, 5 skipped, 0 failed of 5 jobs"))
        try w.save("i2.npy", (0..<(1 * 4 * 5)).map { Float($0 % 7) / 7 - 0.3 }, [1, 4, 5])
        let changed = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", jobs,
                                       "--gather", w.folder.path("all/all.npz")] + mode)
        #expect(changed.stderr.hasSuffix("fusectl fuse: 5 recomputed: job 2 images input changed since\n"), "\(changed.stderr)")
    }

    @Test func perJobColumnsAndForeignFilesAreRefused() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let (_, perJob, _) = try makeJobs(w)
        let withOut = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", perJob,
                                       "--gather", w.folder.path("all.npz")])
        #expect(withOut.status == 1)
        #expect(withOut.stderr.hasPrefix("fusectl fuse: error: \(perJob):2: 'out' is given, but with --gather every job's vectors go into the one gathered archive; drop the column\n"))
        let (jobs, _, _) = try makeJobs(w)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: w.folder.path("all.npz")))
        let foreign = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", jobs,
                                       "--gather", w.folder.path("all.npz")])
        #expect(foreign.status == 1)
        #expect(foreign.stderr == "fusectl fuse: error: \(w.folder.path("all.npz")) exists and was not written by fusectl (it has no record \(w.folder.path("all.npz")).fusectl.json); give --force to overwrite it\n")
        let input = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", jobs,
                                     "--gather", w.folder.path("i3.npy")])
        #expect(input.status == 64)
        #expect(input.stderr.hasPrefix("fusectl fuse: error: --gather \(w.folder.path("i3.npy")) is the input \(jobs):5 'images' \(w.folder.path("i3.npy"))\n"))
    }
}
