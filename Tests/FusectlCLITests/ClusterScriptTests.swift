import Foundation
import NpyIO
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The repository's scripts/cluster examples run as a user would submit them: the Slurm array on a real
/// single-node Slurm (scripts/cluster/local-slurm.sh), the Kubernetes Indexed Job's command line pod by pod.
enum ClusterScripts {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { repository.appendingPathComponent(relative).path }

    static let underCI = isContinuousIntegration

    /// True when `program` is an executable in PATH, /usr/sbin or /sbin.
    static func installed(_ program: String) -> Bool {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/sbin", "/sbin"]
        return folders.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
    }

    /// Slurm can run here: root (slurmd starts jobs as their user) with Debian's slurm-wlm and munge, or
    /// apt-get to install them (local-slurm.sh does). Under CI=true the tests run regardless and fail
    /// with the script's reason when it cannot.
    static let slurmCanRun: Bool = underCI || (geteuid() == 0 && (
        ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"].allSatisfy(installed)
            || installed("apt-get")))

    /// Debian's python3 with PyYAML (scripts/setup.sh installs python3-yaml).
    static let yamlReadable: Bool = underCI || run(["/usr/bin/python3", "-c", "import yaml"]).status == 0

    /// Runs `arguments` (stdout and stderr merged) with `environment` added; waits for it.
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    in directory: URL? = nil) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "cannot start \(arguments[0]): \(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Writes `count` jobs into the workspace (inputs tN.npy, iN.npy, lN.npy; outputs `outFolder`/oN.npy)
    /// as the TSV manifest `name`; `replacingText` names other text files for some jobs.
    static func writeJobs(_ w: TinyWorkspace, count: Int, outFolder: String, name: String,
                          replacingText: [Int: String] = [:]) throws {
        try FileManager.default.createDirectory(atPath: w.folder.path(outFolder), withIntermediateDirectories: true)
        var lines = ["text\timages\tout\timage_lengths"]
        for job in 0..<count {
            let batch = 1 + job % 3
            if !FileManager.default.fileExists(atPath: w.folder.path("t\(job).npy")) {
                try w.save("t\(job).npy", (0..<(batch * 2 * 6)).map { Float(($0 * 7 + job) % 11) / 11 - 0.5 }, [batch, 2, 6])
                try w.save("i\(job).npy", (0..<(batch * 4 * 5)).map { Float(($0 * 3 + job) % 13) / 13 - 0.5 }, [batch, 4, 5])
                try w.saveInts("l\(job).npy", (0..<batch).map { Int64(1 + ($0 + job) % 4) })
            }
            lines.append("\(replacingText[job] ?? "t\(job).npy")\ti\(job).npy\t\(outFolder)/o\(job).npy\tl\(job).npy")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: w.folder.url.appendingPathComponent(name))
    }

    /// Every file in `folder` by name (hidden ones too: a leftover temporary file is a difference).
    static func contents(of folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where !name.hasSuffix(".fusectl.json") {
            files[name] = FaultProcess.contents(of: folder + "/" + name)
        }
        return files
    }

    /// The option names of the fusectl command line that `text` runs after `exec ` (backslash-newline
    /// continuations joined): ["fuse", "--weights", ...], and the whole line.
    static func fusectlOptions(in text: String) -> (options: [String], line: String)? {
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        guard let line = joined.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { $0.hasPrefix("exec fusectl ") }) else { return nil }
        let words = line.split(whereSeparator: { $0 == " " }).map(String.init)
        return (words.dropFirst(2).filter { $0 == "fuse" || $0.hasPrefix("--") }, line)
    }
}

/// scripts/cluster/slurm-array.sbatch, unchanged, on a real Slurm: one array equals one local run bit for
/// bit, and so does an array with a task cancelled midway and then resubmitted.
@Suite(.serialized) struct SlurmArrayTests {
    static let tasks = 3
    static let jobs = 12

    @Test(.enabled(if: ClusterScripts.slurmCanRun, "needs root with Debian's slurm-wlm and munge, or apt-get to install them"))
    func arrayEqualsOneRunAndResumesAfterScancel() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let tasks = Self.tasks, jobs = Self.jobs
        let slowJob = tasks + 1  // task 1's second job: its text comes from a FIFO that nothing writes
        try ClusterScripts.writeJobs(w, count: jobs, outFolder: "whole", name: "whole.tsv")
        try ClusterScripts.writeJobs(w, count: jobs, outFolder: "array", name: "array.tsv")
        try ClusterScripts.writeJobs(w, count: jobs, outFolder: "resumed", name: "resumed.tsv",
                                     replacingText: [slowJob: "text.fifo"])
        try FileManager.default.copyItem(atPath: w.folder.path("t\(slowJob).npy"), toPath: w.folder.path("text-fifo.npy"))
        #expect(mkfifo(w.folder.path("text.fifo"), 0o644) == 0)

        let one = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("whole.tsv")])
        #expect(one.status == 0, "\(one.stderr)")
        let expected = try ClusterScripts.contents(of: w.folder.path("whole"))
        #expect(expected.count == jobs)

        let started = Date()
        let state = w.folder.path("slurm-state")
        let outcome = ClusterScripts.run(
            ["timeout", "420", "bash", ClusterScripts.path("scripts/cluster/local-slurm.sh"),
             "bash", ClusterScripts.path("scripts/test_slurm_array.sh"), w.folder.url.path, "\(tasks)"],
            environment: ["FUSECTL_BIN": Fusectl.binaryURL.path, "LOCAL_SLURM_DIR": state])
        print("Slurm array test (\(Int(Date().timeIntervalSince(started))) s in all):\n\(outcome.output)")
        #expect(outcome.status == 0, "local-slurm.sh + test_slurm_array.sh exited \(outcome.status):\n\(outcome.output)")
        #expect(!FileManager.default.fileExists(atPath: state), "the Slurm state folder was not removed")
        #expect(try ClusterScripts.contents(of: w.folder.path("array")) == expected)
        #expect(try ClusterScripts.contents(of: w.folder.path("resumed")) == expected)
        for name in ["array", "resumed"] {
            let found = try ClusterScripts.contents(of: w.folder.path(name))
            let differing = expected.keys.filter { found[$0] != expected[$0] }.sorted()
            let extra = found.keys.filter { expected[$0] == nil }.sorted()
            #expect(differing.isEmpty && extra.isEmpty, "\(name)/: missing or different \(differing), extra \(extra)")
        }
    }

    @Test(.enabled(if: ClusterScripts.slurmCanRun, "needs root with Debian's slurm-wlm and munge, or apt-get to install them"))
    func daemonsThatCannotStartFailWithTheirOwnLogs() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let state = folder.path("slurm-state")
        let outcome = ClusterScripts.run(
            ["timeout", "120", "bash", ClusterScripts.path("scripts/cluster/local-slurm.sh"), "true"],
            environment: ["LOCAL_SLURM_CPUS": "none", "LOCAL_SLURM_DIR": state])
        #expect(outcome.status == 1, "\(outcome.output)")
        #expect(outcome.output.contains(" exited; the daemons' logs follow\n"), "\(outcome.output)")
        #expect(outcome.output.contains("error: CPUs value \"none\" is not a valid number"), "\(outcome.output)")
        #expect(!FileManager.default.fileExists(atPath: state), "the Slurm state folder was not removed")
    }
}

/// scripts/cluster/kubernetes-indexed-job.yaml: an Indexed Job whose pods run the command line that the
/// Slurm test runs, with Kubernetes' JOB_COMPLETION_INDEX; run here once per index, the /data volume
/// being a workspace folder, its shards' outputs equal one local run bit for bit.
@Suite struct KubernetesIndexedJobTests {
    @Test(.enabled(if: ClusterScripts.yamlReadable, "needs /usr/bin/python3 with PyYAML (Debian's python3-yaml)"))
    func podsRunTheSlurmCommandLineAndTogetherEqualOneRun() throws {
        let yamlPath = ClusterScripts.path("scripts/cluster/kubernetes-indexed-job.yaml")
        let converted = ClusterScripts.run(
            ["/usr/bin/python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", yamlPath])
        try #require(converted.status == 0, "python3 could not parse \(yamlPath): \(converted.output)")
        let job = try #require(try JSONSerialization.jsonObject(with: Data(converted.output.utf8)) as? [String: Any])
        #expect(job["apiVersion"] as? String == "batch/v1")
        #expect(job["kind"] as? String == "Job")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(spec["completions"] as? Int)
        let parallelism = try #require(spec["parallelism"] as? Int)
        #expect(completions >= 1 && (1...completions).contains(parallelism))
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        let containers = try #require(pod["containers"] as? [[String: Any]])
        try #require(containers.count == 1)
        let container = containers[0]
        #expect(container["command"] as? [String] == ["/bin/sh", "-c"])
        let args = try #require(container["args"] as? [String])
        try #require(args.count == 1)
        let script = args[0]
        let cpus = ((container["resources"] as? [String: Any])?["requests"] as? [String: Any])?["cpu"] as? String
        let mount = try #require((container["volumeMounts"] as? [[String: Any]])?.first)
        let mountPath = try #require(mount["mountPath"] as? String)
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        #expect(volumes.contains { $0["name"] as? String == mount["name"] as? String })

        // The same fusectl options as the Slurm script, in the same order; the shard from the pod's index.
        let sbatch = try String(contentsOfFile: ClusterScripts.path("scripts/cluster/slurm-array.sbatch"), encoding: .utf8)
        let slurmLine = try #require(ClusterScripts.fusectlOptions(in: sbatch), "no `exec fusectl` line in slurm-array.sbatch")
        let podLine = try #require(ClusterScripts.fusectlOptions(in: script), "no `exec fusectl` line in the pod's args")
        #expect(podLine.options == slurmLine.options, "pod: \(podLine.line)\nslurm: \(slurmLine.line)")
        #expect(slurmLine.line.contains("--shard \"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}\""))
        #expect(podLine.line.contains("--shard \"${JOB_COMPLETION_INDEX}/\(completions)\""), "\(podLine.line)")
        #expect(podLine.line.contains("--threads \(cpus ?? "?")"), "--threads should be the CPUs requested (\(cpus ?? "none")): \(podLine.line)")

        // The pods, one after another: the volume is a workspace folder with the files the command names.
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let words = podLine.line.split(separator: " ").map(String.init)
        let weights = try #require(words.firstIndex(of: "--weights").map { words[$0 + 1] })
        let manifest = try #require(words.firstIndex(of: "--manifest").map { words[$0 + 1] })
        #expect(weights.hasPrefix(mountPath + "/") && manifest.hasPrefix(mountPath + "/"), "\(podLine.line)")
        let volume = w.folder.path("volume")
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        try ClusterScripts.writeJobs(w, count: 20, outFolder: "whole", name: "whole.tsv")
        try ClusterScripts.writeJobs(w, count: 20, outFolder: "pods", name: "pods.tsv")
        let inVolume = { (path: String) in volume + path.dropFirst(mountPath.count) }
        try FileManager.default.copyItem(atPath: w.folder.path("w.npz"), toPath: inVolume(weights))
        // The manifest in the volume names the workspace's inputs by absolute path.
        let lines = try String(contentsOfFile: w.folder.path("pods.tsv"), encoding: .utf8).split(separator: "\n").enumerated().map {
            $0.offset == 0 ? String($0.element) : $0.element.split(separator: "\t").map { w.folder.path(String($0)) }.joined(separator: "\t")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: inVolume(manifest)))
        let one = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("whole.tsv"), "--quiet"])
        #expect(one.status == 0, "\(one.stderr)")

        let podScript = script.replacingOccurrences(of: mountPath + "/", with: volume + "/")
        let binFolder = Fusectl.binaryURL.deletingLastPathComponent().path
        for index in 0..<completions {
            let pod = ClusterScripts.run(["/bin/sh", "-c", podScript], environment: [
                "JOB_COMPLETION_INDEX": "\(index)",
                "PATH": binFolder + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            ])
            #expect(pod.status == 0, "pod \(index): \(pod.output)")
        }
        let expected = try ClusterScripts.contents(of: w.folder.path("whole"))
        #expect(expected.count == 20)
        #expect(try ClusterScripts.contents(of: w.folder.path("pods")) == expected)
    }
}
