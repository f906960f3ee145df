import ArgumentParser
import Foundation
import Fusion
import FusionJobs
import NpyIO

/// `fuse --manifest`: many batches with one loaded model.
struct ManifestOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A TSV or JSON Lines (*.jsonl) file of jobs, one a line ('-' for standard input).", valueName: "file"))
    var manifest: String?

    @Option(help: ArgumentHelp("Run only the jobs whose 0-based index is K mod N (e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT).", valueName: "K/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Write every job's vectors into this one .npz instead of a file a job: 'fused' (plain: (N, 1, d), N = all jobs' samples in manifest order; per-step: (R, d), each sample's valid rows), 'job_index', 'job_offsets' and, per step, 'sample_offsets'. The manifest then has no 'out' or 'attention' column.", valueName: "file"))
    var gather: String?

    @Flag(help: "Recompute every job, and overwrite output files that fusectl did not write.")
    var force = false

    @Flag(help: "Before keeping an existing output, re-read it and check its CRC-32 against its record (otherwise its record, size and header are checked).")
    var verify = false

    @Flag(help: "Stop at the first failed job.")
    var failFast = false

    @Flag(help: "No progress and no summary on standard error (failures are still reported).")
    var quiet = false

    func validate() throws {
        if let shard { _ = try parsedShard(shard) }
    }

    /// Refuses manifest-only options in single-batch mode.
    func validateUnused() throws {
        if shard != nil || gather != nil || force || verify || failFast || quiet {
            throw ValidationError("--shard, --gather, --force, --verify, --fail-fast and --quiet apply to --manifest runs only.")
        }
    }

    private func parsedShard(_ text: String) throws -> Shard {
        do {
            return try Shard(parsing: text)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Runs the manifest's jobs of this shard; throws `ExitCode(1)` when any failed.
    ///
    /// Before any work (and before the weights are loaded): the whole manifest is parsed, no output of
    /// any job may be an input of any job, the weights, the configuration or the manifest (a usage
    /// error, 64), and without `--force` no output of this shard may be a file without a record.
    func run(model: ModelOptions, options: FusionOptions, outputDType: NpyDType, allowNonfinite: Bool,
             threads: Int, oneSample: Bool = false, extraMembers: InputFiles.ExtraMembers = .refuse) throws {
        let manifestFile: JobManifest
        let selectedShard: Shard
        do {
            manifestFile = try JobManifest(text: try readText(path: manifest!), path: manifest!, outputDType: outputDType,
                                           oneSample: oneSample, extraMembers: extraMembers, gathered: gather != nil)
            selectedShard = try shard.map(Shard.init(parsing:)) ?? .all
        } catch let errors as ManifestErrors {
            for problem in errors.problems { printError("fusectl fuse: error: \(problem)") }
            let count = errors.problems.count
            printError("fusectl fuse: no job was run: \(count) \(count == 1 ? "problem" : "problems") in the manifest")
            throw ExitCode(1)
        } catch {
            throw failure("fuse", error)
        }
        let jobs = manifestFile.jobs
        do {
            try manifestFile.checkCollisions(runInputs: model.inputFiles)
            if let gather {
                let outputs = [RunFile(label: "--gather", path: gather), RunFile(label: "the record of --gather", path: OutputRecord.path(for: gather))]
                try FileCollisions.check(outputs: outputs, inputs: model.inputFiles + [RunFile(label: "--manifest", path: manifest!)]
                    + jobs.flatMap { job in job.inputFiles { "\(manifest!):\(job.line) '\($0)'" } })
            }
        } catch {
            printError("fusectl fuse: error: \(error)")
            printError("fusectl fuse: no job was run")
            throw ExitCode.validationFailure
        }
        if !force {
            let unrecorded = JobRunner.unrecordedOutputs(jobs.filter { selectedShard.contains(jobIndex: $0.index) })
            if !unrecorded.isEmpty {
                for path in unrecorded.prefix(10) {
                    printError("fusectl fuse: error: \(JobRunner.unrecordedMessage(path))")
                }
                if unrecorded.count > 10 { printError("fusectl fuse: error: ... and \(unrecorded.count - 10) more such files") }
                printError("fusectl fuse: no job was run: move \(unrecorded.count == 1 ? "that file" : "those files") away, or give --force to overwrite")
                throw ExitCode(1)
            }
        }
        let weights: LoadedWeights
        do {
            weights = try model.loadWeights(allowNonfinite: allowNonfinite)
        } catch {
            throw failure("fuse", error)
        }
        var runner = JobRunner(engine: FusionEngine(model: weights.model, threads: threads), weights: weights,
                               weightsFile: model.weights, options: options)
        runner.outputDType = outputDType
        runner.force = force
        runner.verify = verify
        runner.failFast = failFast
        runner.allowNonfinite = allowNonfinite
        let display = ProgressDisplay(enabled: !quiet && isatty(2) != 0, shard: selectedShard)
        let manifestName = manifest == "-" ? "<stdin>" : manifest!
        let report = { (job: Job, outcome: JobOutcome, progress: JobProgress) in
            if case .failed(let reason) = outcome {
                display.clearLine()
                printError("fusectl fuse: error: \(manifestName):\(job.line): \(reason)")
            }
            display.update(progress)
        }
        let final: JobProgress
        if let gather {
            do {
                final = try GatheredOutput(path: gather).run(jobs.filter { selectedShard.contains(jobIndex: $0.index) },
                                                             runner: runner, report: report)
            } catch {
                display.clearLine()
                throw failure("fuse", error)
            }
        } else {
            final = runner.run(jobs, shard: selectedShard, report: report)
        }
        display.clearLine()
        if !quiet {
            printError("fusectl fuse: \(final.done) done, \(final.skipped) skipped, \(final.failed) failed of \(final.jobsTotal) jobs"
                + (selectedShard == .all ? "" : " in shard \(selectedShard)")
                + " (\(final.samples) samples in \(ProgressDisplay.clock(display.elapsed)))")
            for (reason, count) in final.recomputed.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                printError("fusectl fuse: \(count) recomputed: \(reason)")
            }
        }
        if final.failed > 0 {
            if let gather { printError("fusectl fuse: \(gather) was not written: every job must succeed for the gathered archive") }
            throw ExitCode(1)
        }
    }
}

/// A one-line progress display on a terminal's standard error, redrawn after every job.
final class ProgressDisplay {
    private let enabled: Bool
    private let shard: Shard
    private let start = Date()

    init(enabled: Bool, shard: Shard) {
        self.enabled = enabled
        self.shard = shard
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    func update(_ progress: JobProgress) {
        guard enabled else { return }
        let seconds = max(elapsed, 1e-3)
        let rate = Double(progress.samples) / seconds
        let finished = progress.jobsFinished
        let eta = finished > 0 ? seconds / Double(finished) * Double(progress.jobsTotal - finished) : 0
        var line = "\r\u{1B}[K"
        if shard != .all { line += "[shard \(shard)] " }
        line += "jobs \(finished)/\(progress.jobsTotal) (\(progress.failed) failed), \(progress.samples) samples, "
        line += String(format: "%.1f samples/s, ETA %@", rate, Self.clock(eta))
        fputs(line, stderr)
    }

    func clearLine() {
        guard enabled else { return }
        fputs("\r\u{1B}[K", stderr)
    }

    /// h:mm:ss or m:ss.
    static func clock(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
