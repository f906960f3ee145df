import Foundation
import NpyIO
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `fusectl fuse --manifest`: shards, resume after a kill, failures that do not stop the run.
@Suite struct ManifestCommandTests {
    /// Writes `count` jobs (inputs in the workspace, outputs under `outFolder`) and returns the manifest path.
    private func makeJobs(_ w: TinyWorkspace, count: Int, outFolder: String, badLines: Set<Int> = []) throws -> String {
        try FileManager.default.createDirectory(atPath: w.folder.path(outFolder), withIntermediateDirectories: true)
        var lines = ["# text\timages\tout", "text\timages\tout\timage_lengths"]
        for job in 0..<count {
            let batch = 1 + job % 3
            try w.save("t\(job).npy", (0..<(batch * 2 * 6)).map { Float(($0 * 7 + job) % 11) / 11 - 0.5 }, [batch, 2, 6])
            try w.save("i\(job).npy", (0..<(batch * 4 * 5)).map { Float(($0 * 3 + job) % 13) / 13 - 0.5 }, [batch, 4, 5])
            try NpyFile.write(NpyArray(int64: (0..<batch).map { Int64(1 + ($0 + job) % 4) }, shape: [batch]), to: w.folder.path("l\(job).npy"))
            let images = badLines.contains(job) ? "missing\(job).npy" : "i\(job).npy"
            lines.append("t\(job).npy\t\(images)\t\(outFolder)/o\(job).npy\tl\(job).npy")
        }
        let path = w.folder.path("\(outFolder).tsv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every file in `folder` by name. Read with plain POSIX reads (FaultProcess.contents): a killed
    /// run can leave an empty temporary file, and Foundation's `Data(contentsOf:)` leaks its buffer
    /// for an empty file, which fails the AddressSanitizer run.
    private func contents(of folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where !name.hasSuffix(".fusectl.json") {
            files[name] = FaultProcess.contents(of: folder + "/" + name)
        }
        return files
    }

    @Test func shardsWithXargsEqualOneRun() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let whole = try makeJobs(w, count: 12, outFolder: "whole")
        let sharded = try makeJobs(w, count: 12, outFolder: "sharded")
        let one = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", whole])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stderr.hasPrefix("fusectl fuse: 12 done, 0 skipped, 0 failed of 12 jobs ("))

        let script = "printf '0/3\\n1/3\\n2/3\\n' | xargs -P 3 -I{} '\(Fusectl.binaryURL.path)' fuse --weights '\(w.folder.path("w.npz"))' --manifest '\(sharded)' --shard {} --quiet"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let expected = try contents(of: w.folder.path("whole"))
        #expect(expected.count == 12)
        #expect(try contents(of: w.folder.path("sharded")) == expected)
    }

    @Test func summaryAndSkipOnSecondRun() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = try makeJobs(w, count: 4, outFolder: "out")
        let first = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest, "--shard", "1/2"])
        #expect(first.status == 0)
        #expect(first.stderr.hasPrefix("fusectl fuse: 2 done, 0 skipped, 0 failed of 2 jobs in shard 1/2 ("))
        #expect(try contents(of: w.folder.path("out")).keys.sorted() == ["o1.npy", "o3.npy"])
        let again = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest])
        #expect(again.stderr.hasPrefix("fusectl fuse: 2 done, 2 skipped, 0 failed of 4 jobs ("))
        let forced = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest, "--force", "--quiet"])
        #expect(forced.status == 0 && forced.stderr.isEmpty)
    }

    @Test func aBadJobIsReportedAndTheOthersRun() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = try makeJobs(w, count: 5, outFolder: "out", badLines: [1, 3])
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest])
        #expect(outcome.status == 1)
        let lines = outcome.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == "fusectl fuse: error: \(manifest):4: \(w.folder.path("missing1.npy")): cannot open for reading: No such file or directory")
        #expect(lines[1].hasPrefix("fusectl fuse: error: \(manifest):6: "))
        #expect(lines[2].hasPrefix("fusectl fuse: 3 done, 0 skipped, 2 failed of 5 jobs ("))
        #expect(try contents(of: w.folder.path("out")).keys.sorted() == ["o0.npy", "o2.npy", "o4.npy"])

        let fast = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest, "--fail-fast", "--force"])
        #expect(fast.status == 1)
        #expect(fast.stderr.contains("1 done, 0 skipped, 1 failed of 5 jobs"))
    }

    /// Starts a manifest run whose job `stalled` reads its text from the FIFO `fifo`, and returns once
    /// fusectl has opened that FIFO: jobs before `stalled` are finished (jobs run in manifest order) and
    /// the run waits on the FIFO, whose write end (returned, open, nothing written) the test holds. A
    /// signal sent then lands mid-run, every time.
    private func stalledRun(_ w: TinyWorkspace, manifest: String, fifo: String) throws -> (FaultProcess, Int32) {
        let process = try FaultProcess(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest, "--quiet"],
                                       folder: w.folder, environment: ["FUSECTL_FIFO_WAIT": "120"])
        var writer: Int32 = -1
        let deadline = Date().addingTimeInterval(60)
        while writer < 0 && Date() < deadline {
            writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)  // ENXIO until fusectl opened it for reading
            if writer < 0 { usleep(2000) }
        }
        if writer < 0 { kill(process.pid, SIGKILL); _ = try? process.wait() }
        try #require(writer >= 0, "fusectl never opened \(fifo)")
        usleep(50_000)  // let it reach the blocking read
        return (process, writer)
    }

    /// Jobs whose text input is a FIFO: the FIFO's path (the manifest names it in place of t`job`.npy).
    private func stallJob(_ w: TinyWorkspace, manifest: String, job: Int) throws -> String {
        let fifo = w.folder.path("stall\(job).fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try #require(text.contains("\nt\(job).npy\t"))
        try Data(text.replacingOccurrences(of: "\nt\(job).npy\t", with: "\nstall\(job).fifo\t").utf8)
            .write(to: URL(fileURLWithPath: manifest))
        return fifo
    }

    /// SIGKILL lands in job 6 of 12 (it waits on a FIFO the test holds): jobs 0–5 are complete, nothing
    /// else is. A killed writer can also leave a half-written temporary (`.NAME.tmp-XXXXXX`); no signal
    /// can be timed between its creation and its rename, so the test plants two such files. The rerun
    /// must skip the six, remove the temporaries and end with the clean run's files, bit for bit.
    @Test func aKilledRunResumesToTheSameFiles() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let clean = try makeJobs(w, count: 12, outFolder: "clean")
        let killed = try makeJobs(w, count: 12, outFolder: "killed")
        let cleanRun = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", clean, "--quiet"])
        #expect(cleanRun.status == 0, "\(cleanRun.stderr)")

        let fifo = try stallJob(w, manifest: killed, job: 6)
        let (process, writer) = try stalledRun(w, manifest: killed, fifo: fifo)
        kill(process.pid, SIGKILL)
        let outcome = try process.wait()
        close(writer)
        #expect(outcome.signal == SIGKILL, "the run was not running when killed: \(outcome.summary)")
        let atKill = try contents(of: w.folder.path("killed")).keys.sorted()
        #expect(atKill == (0..<6).map { "o\($0).npy" }.sorted(), "outputs when killed in job 6: \(atKill)")
        for name in atKill { #expect(throws: Never.self) { try NpyFile.read(path: w.folder.path("killed/\(name)")) } }

        // The stalled job's input becomes the real file; half-written temporaries as a killed writer leaves them.
        try FileManager.default.removeItem(atPath: fifo)
        try FileManager.default.copyItem(atPath: w.folder.path("t6.npy"), toPath: fifo)
        for name in [".o6.npy.tmp-a1B2c3", ".o9.npy.tmp-Zz9yY8"] {
            try Data([0x93, 0x4e, 0x55]).write(to: URL(fileURLWithPath: w.folder.path("killed/\(name)")))
        }
        let resumed = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", killed])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.hasPrefix("fusectl fuse: 6 done, 6 skipped, 0 failed of 12 jobs ("), "\(resumed.stderr)")
        #expect(try contents(of: w.folder.path("killed")) == contents(of: w.folder.path("clean")))
    }

    /// An interrupt lands in job 4 of 8 (waiting on a FIFO the test holds): fusectl dies of the signal
    /// with its message, jobs 0–3 stay complete and no temporary file is left.
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalLeavesOnlyCompleteFiles(_ signal: Int32) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = try makeJobs(w, count: 8, outFolder: "out")
        let fifo = try stallJob(w, manifest: manifest, job: 4)
        let (process, writer) = try stalledRun(w, manifest: manifest, fifo: fifo)
        kill(process.pid, signal)
        let outcome = try process.wait()
        close(writer)
        #expect(outcome.signal == signal, "the run was not running when signalled: \(outcome.summary)")
        #expect(outcome.stderr == "fusectl: interrupted; unfinished output files were removed\n")
        let names = try FileManager.default.contentsOfDirectory(atPath: w.folder.path("out")).sorted()
        #expect(names == (0..<4).flatMap { ["o\($0).npy", "o\($0).npy.fusectl.json"] }.sorted(), "files after the signal: \(names)")
        for name in names where !name.hasSuffix(".fusectl.json") {
            #expect(throws: Never.self) { try NpyFile.read(path: w.folder.path("out/\(name)")) }
        }
    }
}
