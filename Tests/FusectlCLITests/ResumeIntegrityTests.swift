import Foundation
import NpyIO
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Resume keeps only what this run would write: every output carries a record of what made it, and a
/// resumed manifest run recomputes outputs made by other weights, in another mode or dtype, from an
/// input rewritten since, or that are truncated, incomplete or damaged; files without a record are
/// not overwritten without --force. Each recomputed file must equal a fresh run's bytes.
@Suite struct ResumeIntegrityTests {
    /// A workspace with `count` jobs `o<i>.npy` under out/ (inputs text.npy/images.npy of the tiny
    /// workspace) in jobs.tsv, with optional extra columns per job.
    private struct Jobs {
        let w: TinyWorkspace
        let manifest: String
        let count: Int

        init(count: Int = 3, attention: Bool = false, archive: Bool = false) throws {
            w = try TinyWorkspace()
            self.count = count
            var lines = ["text\timages\tout" + (attention ? "\tattention" : "")]
            for job in 0..<count {
                let out = archive ? "out/o\(job).npz" : "out/o\(job).npy"
                lines.append("text.npy\timages.npy\t\(out)" + (attention ? (archive ? "\t\(out)" : "\tout/a\(job).npy") : ""))
            }
            manifest = w.folder.path("jobs.tsv")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
        }

        func run(_ extra: [String] = [], weights: String = "w.npz") throws -> CommandOutcome {
            try Fusectl.run(["fuse", "--weights", w.folder.path(weights), "--manifest", manifest] + extra)
        }

        func path(_ name: String) -> String { w.folder.path(name) }

        /// Every file under out/ by name.
        func files() throws -> [String: Data] {
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: path("out")) {
                files[name] = FaultProcess.contents(of: path("out/" + name))
            }
            return files
        }

        /// The output files (records left out).
        func outputs() throws -> [String: Data] {
            try files().filter { !$0.key.hasSuffix(".fusectl.json") }
        }
    }

    /// The summary's first line and its "N recomputed: why" lines.
    private func summary(_ outcome: CommandOutcome) -> [String] {
        outcome.stderr.split(separator: "\n").map { line in
            String(line.replacingOccurrences(of: #" \(\d+ samples in [0-9:]+\)"#, with: "", options: .regularExpression))
        }
    }

    /// The outputs of a fresh, clean run of the same manifest with `extra` options, in a folder of its own.
    private func freshOutputs(_ jobs: Jobs, _ extra: [String], weights: String = "w.npz") throws -> [String: Data] {
        let clean = jobs.path("clean")
        try FileManager.default.createDirectory(atPath: clean, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: jobs.manifest, encoding: .utf8).replacingOccurrences(of: "out/", with: "clean/")
        let manifest = jobs.path("clean.tsv")
        try Data(text.utf8).write(to: URL(fileURLWithPath: manifest))
        let run = try Fusectl.run(["fuse", "--weights", jobs.path(weights), "--manifest", manifest, "--quiet"] + extra)
        try #require(run.status == 0, "\(run.stderr)")
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: clean) where !name.hasSuffix(".fusectl.json") {
            files[name] = FaultProcess.contents(of: clean + "/" + name)
        }
        try FileManager.default.removeItem(atPath: clean)
        return files
    }

    @Test func everyOutputHasARecordThatInspectShows() throws {
        let jobs = try Jobs(count: 1, attention: true)
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        #expect(try jobs.files().keys.sorted() == ["a0.npy", "a0.npy.fusectl.json", "o0.npy", "o0.npy.fusectl.json"])
        let shown = try Fusectl.run(["inspect", jobs.path("out/o0.npy")])
        #expect(shown.status == 0)
        #expect(shown.stdoutText.contains("made by fusectl "))
        #expect(shown.stdoutText.contains("plain mode, float32, plan automatic, with attention maps"))
        #expect(shown.stdoutText.contains("images \(jobs.path("images.npy")) ("))
        // numpy reads the output exactly as before (no extra header keys).
        try PythonNumpy.require()
        let shape = try PythonNumpy.run("import numpy; print(numpy.load('\(jobs.path("out/o0.npy"))').shape)")
        #expect(shape.trimmingCharacters(in: .whitespacesAndNewlines) == "(3, 1, 8)")
    }

    @Test(arguments: [
        (["--per-step"], "made in plain mode"),
        (["--out-dtype", "float16"], "written as float32"),
        (["--plan", "x-formed"], "made with plan automatic"),
    ])
    func anotherModeDtypeOrPlanIsRecomputed(_ extra: [String], _ reason: String) throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        let again = try jobs.run(extra)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(summary(again) == ["fusectl fuse: 3 done, 0 skipped, 0 failed of 3 jobs", "fusectl fuse: 3 recomputed: \(reason)"])
        #expect(try jobs.outputs() == freshOutputs(jobs, extra))
        let third = try jobs.run(extra)
        #expect(summary(third) == ["fusectl fuse: 0 done, 3 skipped, 0 failed of 3 jobs"])
    }

    @Test func otherWeightsAreRecomputedSameWeightsElsewhereAreNot() throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        // The same tensors in another file (a copy): the fingerprint is the content's, so nothing is redone.
        try FileManager.default.copyItem(atPath: jobs.path("w.npz"), toPath: jobs.path("copy.npz"))
        #expect(summary(try jobs.run(weights: "copy.npz")) == ["fusectl fuse: 0 done, 3 skipped, 0 failed of 3 jobs"])
        let made = try Fusectl.run(["init", "--config", jobs.path("config.json"), "--seed", "4", "--out", jobs.path("other.npz")])
        try #require(made.status == 0)
        let again = try jobs.run(weights: "other.npz")
        #expect(summary(again) == ["fusectl fuse: 3 done, 0 skipped, 0 failed of 3 jobs", "fusectl fuse: 3 recomputed: made by other weights"])
        #expect(try jobs.outputs() == freshOutputs(jobs, [], weights: "other.npz"))
    }

    @Test func aRewrittenInputIsRecomputed() throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        try jobs.w.save("images.npy", (0..<(3 * 4 * 5)).map { Float($0 % 7) / 7 - 0.3 }, [3, 4, 5])
        let again = try jobs.run()
        #expect(summary(again) == ["fusectl fuse: 3 done, 0 skipped, 0 failed of 3 jobs", "fusectl fuse: 3 recomputed: images input changed since"])
        #expect(try jobs.outputs() == freshOutputs(jobs, []))
    }

    @Test func aTruncatedNpyIsRecomputed() throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        let expected = try jobs.outputs()
        #expect(truncate(jobs.path("out/o1.npy"), 100) == 0)
        let again = try jobs.run()
        #expect(summary(again) == ["fusectl fuse: 1 done, 2 skipped, 0 failed of 3 jobs", "fusectl fuse: 1 recomputed: truncated"])
        #expect(try jobs.outputs() == expected)
    }

    @Test func anArchiveWithoutItsAttentionMemberIsRecomputed() throws {
        let jobs = try Jobs(count: 2, attention: true, archive: true)
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        let expected = try jobs.outputs()
        // Replace o1.npz by an archive of 'fused' alone, same size and time as the record says: only
        // the member check can tell.
        let path = jobs.path("out/o1.npz")
        let original = try FileStamp(path: path).unwrap()
        let fusedOnly = try NpzArchive(path: path).array(named: "fused")
        var filler = 1
        var bytes: [UInt8] = []
        for _ in 0..<8 {  // a filler member whose size makes the archive exactly as long as the original
            var archive = NpzWriter()
            archive.add("fused", fusedOnly)
            archive.add("filler", try NpyArray(dtype: .uint8, byteOrder: .notApplicable, shape: [filler], fortranOrder: false,
                                               bytes: [UInt8](repeating: 0, count: filler)))
            bytes = try archive.encode()
            if bytes.count == original.byteCount { break }
            filler = max(1, filler + original.byteCount - bytes.count)
        }
        try #require(bytes.count == original.byteCount)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        setModificationTime(path, original.modifiedNanoseconds)
        try #require(FileStamp(path: path)?.byteCount == original.byteCount)
        let again = try jobs.run()
        #expect(summary(again) == ["fusectl fuse: 1 done, 1 skipped, 0 failed of 2 jobs",
                                   "fusectl fuse: 1 recomputed: incomplete (no member 'attention')"])
        #expect(try jobs.outputs() == expected)
    }

    @Test func aMissingAttentionFileIsRecomputed() throws {
        let jobs = try Jobs(count: 2, attention: true)
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        let expected = try jobs.outputs()
        try FileManager.default.removeItem(atPath: jobs.path("out/a1.npy"))
        let again = try jobs.run()
        #expect(summary(again) == ["fusectl fuse: 1 done, 1 skipped, 0 failed of 2 jobs", "fusectl fuse: 1 recomputed: missing"])
        #expect(try jobs.outputs() == expected)
    }

    @Test func aFlippedByteIsFoundByItsTimeOrByVerify() throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        let expected = try jobs.outputs()
        let path = jobs.path("out/o2.npy")
        func flip() throws {
            var bytes = [UInt8](FaultProcess.contents(of: path))
            bytes[bytes.count - 3] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        // Changed in place, time left as written: the time differs from the record, so its CRC is checked.
        try flip()
        #expect(summary(try jobs.run()) == ["fusectl fuse: 1 done, 2 skipped, 0 failed of 3 jobs",
                                            "fusectl fuse: 1 recomputed: changed since it was written"])
        #expect(try jobs.outputs() == expected)
        // Changed with its time put back: size, header and record agree, so only --verify finds it.
        let rewritten = try FileStamp(path: path).unwrap()
        try flip()
        setModificationTime(path, rewritten.modifiedNanoseconds)
        #expect(summary(try jobs.run()) == ["fusectl fuse: 0 done, 3 skipped, 0 failed of 3 jobs"])
        #expect(try jobs.outputs() != expected)
        #expect(summary(try jobs.run(["--verify"])) == ["fusectl fuse: 1 done, 2 skipped, 0 failed of 3 jobs",
                                                        "fusectl fuse: 1 recomputed: damaged (CRC-32 differs from its record)"])
        #expect(try jobs.outputs() == expected)
    }

    @Test func aFileWithoutARecordStopsTheRunUnlessForced() throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        try FileManager.default.createDirectory(atPath: jobs.path("out"), withIntermediateDirectories: true)
        try Data("not ours".utf8).write(to: URL(fileURLWithPath: jobs.path("out/o1.npy")))
        let refused = try jobs.run()
        #expect(refused.status == 1)
        #expect(refused.stderr == """
            fusectl fuse: error: \(jobs.path("out/o1.npy")) exists and was not written by fusectl (it has no record \(jobs.path("out/o1.npy")).fusectl.json)
            fusectl fuse: no job was run: move that file away, or give --force to overwrite

            """)
        #expect(try jobs.files().keys.sorted() == ["o1.npy"])
        let forced = try jobs.run(["--force"])
        #expect(forced.status == 0)
        #expect(try jobs.outputs() == freshOutputs(jobs, []))
    }

    @Test func killedAndResumedEqualsACleanRun() throws {
        let jobs = try Jobs(count: 4)
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run(["--shard", "0/2"]).status == 0)  // half the jobs, as a killed run leaves them
        // A killed writer's temporary files and a record whose file never took its name.
        try Data("partial".utf8).write(to: URL(fileURLWithPath: jobs.path("out/.o1.npy.tmp-ABC123")))
        try FileManager.default.copyItem(atPath: jobs.path("out/o0.npy.fusectl.json"), toPath: jobs.path("out/o1.npy.fusectl.json"))
        let resumed = try jobs.run()
        #expect(summary(resumed) == ["fusectl fuse: 2 done, 2 skipped, 0 failed of 4 jobs", "fusectl fuse: 1 recomputed: missing"])
        let clean = try freshOutputs(jobs, [])
        #expect(try jobs.outputs() == clean)
        #expect(try jobs.files().count == 8)  // four outputs, four records, nothing else
    }

    @Test func resumeFromAnotherFolderAfterACopyKeepsTheOutputs() throws {
        let jobs = try Jobs()
        defer { jobs.w.folder.remove() }
        #expect(try jobs.run().status == 0)
        // Outputs copied without their times (plain cp): recognised by their CRC-32, not recomputed.
        for job in 0..<3 {
            let path = jobs.path("out/o\(job).npy")
            let bytes = FaultProcess.contents(of: path)
            try FileManager.default.removeItem(atPath: path)
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        #expect(summary(try jobs.run()) == ["fusectl fuse: 0 done, 3 skipped, 0 failed of 3 jobs"])
    }

    // MARK: - Outputs that would replace inputs

    @Test(arguments: ["text.npy", "images.npy", "w.npz", "link-to-images.npy", "hard-link-to-text.npy", "./sub/../text.npy"])
    func anOutputNamingAnInputIsAUsageError(_ out: String) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try FileManager.default.createDirectory(atPath: w.folder.path("sub"), withIntermediateDirectories: true)
        #expect(symlink(w.folder.path("images.npy"), w.folder.path("link-to-images.npy")) == 0)
        #expect(link(w.folder.path("text.npy"), w.folder.path("hard-link-to-text.npy")) == 0)
        let before = try inputBytes(w)
        for option in ["--out", "--attention", "--attention-png"] {
            var arguments = ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                             "--images", w.folder.path("images.npy")]
            arguments += option == "--out" ? ["--out", w.folder.path(out)] : ["--out", w.folder.path("f.npy"), option, w.folder.path(out)]
            let outcome = try Fusectl.run(arguments)
            #expect(outcome.status == 64, "\(option) \(out): \(outcome.stderr)")
            let input = out.contains("images") ? "--images \(w.folder.path("images.npy"))"
                : out == "w.npz" ? "--weights \(w.folder.path("w.npz"))" : "--text \(w.folder.path("text.npy"))"
            #expect(outcome.stderr.hasPrefix("Error: \(option) \(w.folder.path(out)) is the input \(input)\n"), "\(outcome.stderr)")
            #expect(try inputBytes(w) == before)
            #expect(!FileManager.default.fileExists(atPath: w.folder.path("f.npy")))
        }
    }

    @Test func aRecordThatWouldReplaceAnInputIsAUsageError() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try FileManager.default.copyItem(atPath: w.folder.path("images.npy"), toPath: w.folder.path("f.npy.fusectl.json"))
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                                       "--images", w.folder.path("f.npy.fusectl.json"), "--out", w.folder.path("f.npy")])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.hasPrefix("Error: the record of --out \(w.folder.path("f.npy.fusectl.json")) is the input --images"))
    }

    @Test func aBundleOrConfigAsOutputIsAUsageError() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var bundle = NpzWriter()
        bundle.add("text", try NpyFile.read(path: w.folder.path("text.npy")))
        bundle.add("images", try NpyFile.read(path: w.folder.path("images.npy")))
        try bundle.write(to: w.folder.path("b.npz"))
        let viaBundle = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--batch", w.folder.path("b.npz"),
                                         "--out", w.folder.path("b.npz")])
        #expect(viaBundle.status == 64)
        #expect(viaBundle.stderr.hasPrefix("Error: --out \(w.folder.path("b.npz")) is the input --batch \(w.folder.path("b.npz"))"))
        let viaConfig = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--config", w.folder.path("config.json"),
                                         "--batch", w.folder.path("b.npz"), "--out", w.folder.path("config.json")])
        #expect(viaConfig.status == 64)
        #expect(viaConfig.stderr.hasPrefix("Error: --out \(w.folder.path("config.json")) is the input --config"))
    }

    @Test func aManifestJobWritingAnotherJobsInputIsRefusedBeforeAnyJob() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = w.folder.path("jobs.tsv")
        let lines = ["text\timages\tout\tattention", "text.npy\timages.npy\tout/a.npy", "out/a.npy\timages.npy\tout/b.npy",
                     "text.npy\timages.npy\tout/c.npy\tw.npz", "text.npy\timages.npy\tjobs.tsv"]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest])
        #expect(outcome.status == 64)
        #expect(outcome.stderr == """
            fusectl fuse: error: \(manifest):2 'out' \(w.folder.path("out/a.npy")) is the input \(manifest):3 'text' \(w.folder.path("out/a.npy"))
            \(manifest):4 'attention' \(w.folder.path("w.npz")) is the input --weights \(w.folder.path("w.npz"))
            \(manifest):5 'out' \(manifest) is the input --manifest \(manifest)
            an output never replaces an input: choose other output paths
            fusectl fuse: no job was run

            """)
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("out")))
    }

    @Test func heatmapAndInitNeverWriteOverTheirInput() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let fused = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--attention", w.folder.path("a.npy")])
        try #require(fused.status == 0)
        let maps = FaultProcess.contents(of: w.folder.path("a.npy"))
        let heatmap = try Fusectl.run(["heatmap", w.folder.path("a.npy"), "--out", w.folder.path("a.npy")])
        #expect(heatmap.status == 64)
        #expect(heatmap.stderr.hasPrefix("Error: --out \(w.folder.path("a.npy")) is the input <maps> \(w.folder.path("a.npy"))\n"))
        #expect(FaultProcess.contents(of: w.folder.path("a.npy")) == maps)
        let config = FaultProcess.contents(of: w.folder.path("config.json"))
        let initialised = try Fusectl.run(["init", "--config", w.folder.path("config.json"), "--out", w.folder.path("config.json")])
        #expect(initialised.status == 64)
        #expect(initialised.stderr.hasPrefix("Error: --out \(w.folder.path("config.json")) is the input --config \(w.folder.path("config.json"))\n"))
        #expect(FaultProcess.contents(of: w.folder.path("config.json")) == config)
    }

    // MARK: - Configuration conflicts, empty manifests

    @Test func aConfigContradictingTheWeightsIsAnError() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let other = #"{"txt_latent_dim": 6, "img_latent_dim": 5, "proj_dim": 8, "n_heads": 4, "n_blocks": 2, "ffn_dim": 16, "norm_first": true}"#
        try Data(other.utf8).write(to: URL(fileURLWithPath: w.folder.path("other.json")))
        let conflict = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--config", w.folder.path("other.json")])
        #expect(conflict.status == 1)
        #expect(conflict.stderr == "fusectl fuse: error: \(w.folder.path("other.json")): the configuration contradicts the weights file's own (\(w.folder.path("w.npz")):config): n_heads 4 (file: 2), norm_first true (file: false); drop --config to use the file's configuration, or correct the one that is wrong\n")
        #expect(!w.outputExists)
        // The same configuration given again is fine.
        let same = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--config", w.folder.path("config.json")])
        #expect(same.status == 0, "\(same.stderr)")
    }

    @Test(arguments: ["", "# only a comment\n\n", "text\timages\tout\n"])
    func aManifestWithoutJobsIsAnError(_ text: String) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try Data(text.utf8).write(to: URL(fileURLWithPath: w.folder.path("jobs.tsv")))
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("jobs.tsv")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == """
            fusectl fuse: error: \(w.folder.path("jobs.tsv")): the manifest holds no job (only blank lines, comments or a header); expected one job a line with the columns text, images, out, ...
            fusectl fuse: no job was run: 1 problem in the manifest

            """)
    }

    private func inputBytes(_ w: TinyWorkspace) throws -> [Data] {
        ["text.npy", "images.npy", "w.npz"].map { FaultProcess.contents(of: w.folder.path($0)) }
    }
}

/// Paths as the records write them (symbolic links resolved: the temporary folder may sit under one).
enum OutputPathForTests {
    static func real(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// A file's size and modification time.
struct FileStamp {
    var byteCount: Int
    var modifiedNanoseconds: Int64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        byteCount = Int(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}

extension Optional {
    func unwrap(sourceLocation: SourceLocation = #_sourceLocation) throws -> Wrapped {
        try #require(self, sourceLocation: sourceLocation)
    }
}

/// Sets `path`'s modification time (and access time) to `nanoseconds` since the epoch.
func setModificationTime(_ path: String, _ nanoseconds: Int64) {
    var times = [timespec](repeating: timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000)), count: 2)
    _ = utimensat(AT_FDCWD, path, &times, 0)
}
