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

    @Flag(help: "Recompute jobs whose outputs already exist.")
    var force = false

    @Flag(help: "Stop at the first failed job.")
    var failFast = false

    @Flag(help: "No progress and no summary on standard error (failures are still reported).")
    var quiet = false

    func validate() throws {
        if let shard { _ = try parsedShard(shard) }
    }

    /// Refuses manifest-only options in single-batch mode.
    func validateUnused() throws {
        if shard != nil || force || failFast || quiet {
            throw ValidationError("--shard, --force, --fail-fast and --quiet apply to --manifest runs only.")
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
    func run(engine: FusionEngine, options: FusionOptions, outputDType: NpyDType, allowNonfinite: Bool,
             oneSample: Bool = false, extraMembers: InputFiles.ExtraMembers = .refuse) throws {
        let jobs: [Job]
        let selectedShard: Shard
        do {
            jobs = try JobManifest(text: try readText(path: manifest!), path: manifest!, outputDType: outputDType,
                              oneSample: oneSample, extraMembers: extraMembers).jobs
            selectedShard = try shard.map(Shard.init(parsing:)) ?? .all
        } catch let errors as ManifestErrors {
            for problem in errors.problems { printError("fusectl fuse: error: \(problem)") }
            let count = errors.problems.count
            printError("fusectl fuse: no job was run: \(count) \(count == 1 ? "problem" : "problems") in the manifest")
            throw ExitCode(1)
        } catch {
            throw failure("fuse", error)
        }
        var runner = JobRunner(engine: engine, options: options)
        runner.force = force
        runner.failFast = failFast
        runner.allowNonfinite = allowNonfinite
        let display = ProgressDisplay(enabled: !quiet && isatty(2) != 0, shard: selectedShard)
        let manifestName = manifest == "-" ? "<stdin>" : manifest!
        let final = runner.run(jobs, shard: selectedShard) { job, outcome, progress in
            if case .failed(let reason) = outcome {
                display.clearLine()
                printError("fusectl fuse: error: \(manifestName):\(job.line): \(reason)")
            }
            display.update(progress)
        }
        display.clearLine()
        if !quiet {
            printError("fusectl fuse: \(final.done) done, \(final.skipped) skipped, \(final.failed) failed of \(final.jobsTotal) jobs"
                + (selectedShard == .all ? "" : " in shard \(selectedShard)")
                + " (\(final.samples) samples in \(ProgressDisplay.clock(display.elapsed)))")
        }
        if final.failed > 0 { throw ExitCode(1) }
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
